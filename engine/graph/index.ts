export * from './value';
export * from './ops';
export * from './graph';
export * from './onnx';
