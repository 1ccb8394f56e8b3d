export * from './tiler';
export * from './model';
export * from './pass';
export * from './bands';
export * from './pipeline';
export * from './batch';
