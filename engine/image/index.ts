export * from './planar';
export * from './errors';
export * from './formats';
export * from './metadata';
export * from './decode';
export * from './encode';
