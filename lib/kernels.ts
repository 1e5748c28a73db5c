// `kernels`: the addon's exports as the public API (typed by binding.d.ts).
import { native, NativeBinding } from './native';

/** Forwards each property to the addon, loading it on first access. */
export const kernels: NativeBinding = new Proxy({} as NativeBinding, {
  get(_target, prop) {
    return Reflect.get(native(), prop);
  },
  has(_target, prop) {
    return Reflect.has(native(), prop);
  },
  ownKeys() {
    return Reflect.ownKeys(native());
  },
  getOwnPropertyDescriptor(_target, prop) {
    const descriptor = Reflect.getOwnPropertyDescriptor(native(), prop);
    return descriptor ? { ...descriptor, configurable: true } : undefined;
  },
});
