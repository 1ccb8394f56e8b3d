export * from './value';
export * from './ops';
export * from './graph';
export * from './onnx';
export * from './autodiff';
export type { GradArgs, GradRule } from './grad-common';
