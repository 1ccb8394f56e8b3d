export type { DType, HostTensor, StateDict } from './tensor';
export { numel, float32Tensor } from './tensor';
export type { Safetensors } from './safetensors';
export { readSafetensors, parseSafetensors, serializeSafetensors, writeSafetensors, SafetensorsError } from './safetensors';
export type { PthOptions, StateDictKey } from './pth';
export { readPthZip, readPthLegacy, CheckpointError } from './pth';
export { UnpicklingError } from './pickle';
export type { CheckpointFormat, MatchOptions } from './checkpoint';
export { detectFormat, loadStateDict, saveSafetensors, matchStateDict } from './checkpoint';
