// loadModel: bytes or a file -> Model, with clear errors for anything that is not a sound ONNX model.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, type ModelProto } from './gen/onnx_pb';
import { describeError, ModelLoadError } from './errors';
import { ExternalDataSource } from './external-data';
import { parseExternalLocation } from './external-location';
import { Model } from './model';
import { allTensors } from './proto-walk';
import { isExternal } from './tensor';
import { validateModel } from './validate';

/** protobuf cannot encode a message of 2 GiB or more. */
export const PROTOBUF_LIMIT = 2 ** 31 - 1;

export interface LoadOptions {
  /**
   * Folder that external data locations are relative to. Defaults to the model file's folder;
   * needed when loading bytes of a model that keeps data in external files.
   */
  baseDir?: string;
  /** Check the model's structure with validateModel (default true). */
  validate?: boolean;
  /** Reads the model file (default fs.readFileSync); the native engine maps it instead of copying it. */
  readFile?: (file: string) => Uint8Array;
}

function readModelFile(file: string, read: (file: string) => Uint8Array): Uint8Array {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : describeError(err);
    throw new ModelLoadError(`cannot load model "${file}": ${reason}`, { cause: err });
  }
  if (stat.isDirectory()) throw new ModelLoadError(`cannot load model "${file}": it is a directory, not a model file`);
  if (!stat.isFile()) throw new ModelLoadError(`cannot load model "${file}": not a regular file`);
  if (stat.size === 0) throw new ModelLoadError(`cannot load model "${file}": the file is empty`);
  if (stat.size > PROTOBUF_LIMIT) {
    throw new ModelLoadError(`cannot load model "${file}": ${stat.size} bytes is over protobuf's 2 GiB limit; large models keep their weights in external data`);
  }
  try {
    return read(file);
  } catch (err) {
    throw new ModelLoadError(`cannot load model "${file}": ${describeError(err)}`, { cause: err });
  }
}

/** Decode ModelProto bytes; tensor raw_data fields become views into `bytes`. */
export function parseModelProto(bytes: Uint8Array, label = 'model'): ModelProto {
  if (bytes.byteLength === 0) throw new ModelLoadError(`cannot load ${label}: no bytes`);
  // A view from this realm over the same memory: Buffers from fs fail instanceof checks under jest/vm.
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let proto: ModelProto;
  try {
    proto = fromBinary(ModelProtoSchema, view);
  } catch (err) {
    throw new ModelLoadError(`cannot load ${label}: not a valid ONNX protobuf (${describeError(err)}); the file may be truncated or not a model`, { cause: err });
  }
  if (proto.irVersion <= 0n || !proto.graph) {
    throw new ModelLoadError(`cannot load ${label}: not an ONNX model (no ${proto.irVersion <= 0n ? 'ir_version' : 'graph'}); the file may be truncated or of another format`);
  }
  return proto;
}

/**
 * Load an ONNX model from a file path or from its bytes. Throws ModelLoadError (unreadable or not a
 * model), ExternalDataError (external data missing or unsafe) or ModelValidationError (unsound graph).
 * External data is checked now and read lazily, each range once.
 */
export function loadModel(pathOrBytes: string | Uint8Array, options: LoadOptions = {}): Model {
  const fromFile = typeof pathOrBytes === 'string';
  const bytes = fromFile ? readModelFile(pathOrBytes, options.readFile ?? fs.readFileSync) : pathOrBytes;
  if (!fromFile && !ArrayBuffer.isView(bytes)) throw new TypeError('loadModel expects a file path or a Uint8Array');
  const label = fromFile ? `model "${pathOrBytes}"` : 'model bytes';
  const proto = parseModelProto(bytes, label);
  const baseDir = options.baseDir ?? (fromFile ? path.dirname(path.resolve(pathOrBytes)) : undefined);
  const external = allTensors(proto).filter(isExternal);
  let source: ExternalDataSource | undefined;
  if (external.length > 0 && baseDir !== undefined) {
    source = new ExternalDataSource(baseDir);
    for (const tensor of external) source.resolve(tensor);
  } else {
    for (const tensor of external) parseExternalLocation(tensor);
  }
  const model = new Model(proto, { externalData: source, sourcePath: fromFile ? path.resolve(pathOrBytes) : undefined });
  if (options.validate !== false) validateModel(model);
  return model;
}
