export type { CropOptions, MetricImage, Plane } from './pixels';
export { lumaY } from './pixels';
export { psnrRgb, psnrY } from './psnr';
export { ssimPlane, ssimY } from './ssim';
export { evaluatePair, meanOf, meanScore, type PairScore } from './evaluate';
