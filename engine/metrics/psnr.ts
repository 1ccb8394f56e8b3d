import { lumaY, preparePair, type CropOptions, type MetricImage } from './pixels';

function psnrFromMse(mse: number): number {
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/** PSNR in dB (peak 255) on the Y channel of MATLAB rgb2ycbcr; Infinity for identical images. */
export function psnrY(a: MetricImage, b: MetricImage, opts: CropOptions = {}): number {
  const crop = opts.crop ?? 0;
  const [x, y] = preparePair(a, b, crop, 1);
  const ya = lumaY(x, crop).data;
  const yb = lumaY(y, crop).data;
  let sum = 0;
  for (let i = 0; i < ya.length; i++) {
    const d = ya[i]! - yb[i]!;
    sum += d * d;
  }
  return psnrFromMse(sum / ya.length);
}

/** PSNR in dB (peak 255) over all channels of the 8-bit pixels. */
export function psnrRgb(a: MetricImage, b: MetricImage, opts: CropOptions = {}): number {
  const crop = opts.crop ?? 0;
  const [x, y] = preparePair(a, b, crop, 1);
  const c = x.channels;
  let sum = 0;
  for (let row = crop; row < x.height - crop; row++) {
    const start = (row * x.width + crop) * c;
    const end = (row * x.width + x.width - crop) * c;
    for (let i = start; i < end; i++) {
      const d = x.data[i]! - y.data[i]!;
      sum += d * d;
    }
  }
  return psnrFromMse(sum / ((x.width - 2 * crop) * (x.height - 2 * crop) * c));
}
