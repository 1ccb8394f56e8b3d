export * from './session';
export * from './providers';
export * from './select';
export * from './cache';
