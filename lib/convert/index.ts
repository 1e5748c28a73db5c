// Public API of the conversion passes.
export { convertFloat, type ConvertFloatOptions, type ConvertFloatResult, type FloatTarget } from './convert-float';
export type { FloatConversionReport } from './float-report';
export { DEFAULT_BLOCKED_OPS } from './block-list';
export { inferElemTypes, type ElemTypes } from './elem-types';
