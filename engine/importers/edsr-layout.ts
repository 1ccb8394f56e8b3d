import { CheckpointError } from '../io/pth';
import type { StateDict } from '../io/tensor';
import { DIV2K_RGB_MEAN } from '../zoo/edsr';
import type { ModelConfig } from '../zoo/registry';
import { countIndexed, renameKeys, shapeOf, type TorchLayout } from './torch-layout';

/**
 * The official EDSR-PyTorch checkpoints (edsr_baseline_x2/x3/x4, edsr_x2/x3/x4): sub_mean and
 * add_mean are fixed 1x1 convs holding the RGB mean times rgb_range, head.0, body.N.body.{0,2},
 * body.<num_block> (our conv_after_body), tail.0.* the upsampler, tail.1 the last conv. The
 * means fold into our EDSR's rgb_mean / img_range; the rest are renames.
 */

function meanShift(sd: StateDict): { rgbMean: [number, number, number]; rgbRange: number } {
  const w = sd.get('add_mean.weight');
  const b = sd.get('add_mean.bias');
  const sub = sd.get('sub_mean.bias');
  if (!w || !b || !sub || w.data.length !== 9 || b.data.length !== 3)
    throw new CheckpointError('sub_mean/add_mean are not 3-channel mean shifts');
  const identity = Array.from(w.data as Float32Array).every((v, i) => v === (i % 4 === 0 ? 1 : 0));
  const bias = Array.from(b.data as Float32Array);
  const opposite = Array.from(sub.data as Float32Array).every((v, i) => Math.abs(v + bias[i]!) < 1e-6 * Math.max(1, Math.abs(v)));
  if (!identity || !opposite) throw new CheckpointError('only mean shifts with rgb_std 1 are supported (add_mean is not x + mean)');
  // EDSR-PyTorch trains on 0-255 (rgb_range 255); a model trained on 0-1 has means below 1.
  const rgbRange = Math.max(...bias) > 1 ? 255 : 1;
  return { rgbMean: [bias[0]! / rgbRange, bias[1]! / rgbRange, bias[2]! / rgbRange], rgbRange };
}

function upscaleOf(sd: StateDict, feat: number): 2 | 3 | 4 {
  const first = shapeOf(sd, 'tail.0.0.weight')[0];
  if (first === 9 * feat) return 3;
  if (first !== 4 * feat) throw new CheckpointError(`tail.0.0 makes ${first} channels from ${feat}: not a x2, x3 or x4 upsampler`);
  return sd.has('tail.0.2.weight') ? 4 : 2;
}

export const edsrOfficial: TorchLayout = {
  architecture: 'EDSR (EDSR-PyTorch layout)',
  matches: (sd) => sd.has('head.0.weight') && sd.has('body.0.body.0.weight') && sd.has('tail.1.weight'),
  convert: (sd) => {
    const numBlock = countIndexed(sd, 'body.', '.body.0.weight');
    const numFeat = shapeOf(sd, 'head.0.weight')[0]!;
    const { rgbMean, rgbRange } = meanShift(sd);
    const config: ModelConfig = {
      family: 'edsr',
      num_in_ch: 3,
      num_out_ch: 3,
      num_feat: numFeat,
      num_block: numBlock,
      upscale: upscaleOf(sd, numFeat),
      // The paper's large EDSR (256 features) scales its residuals by 0.1; the baseline does not.
      res_scale: numFeat >= 256 ? 0.1 : 1,
      img_range: rgbRange,
      rgb_mean: rgbMean,
    };
    const weights = renameKeys(sd, (key) => {
      if (key.startsWith('sub_mean.') || key.startsWith('add_mean.')) return undefined;
      let m = /^body\.(\d+)\.body\.([02])\.(weight|bias)$/.exec(key);
      if (m) return `body.${m[1]}.conv${m[2] === '0' ? 1 : 2}.${m[3]}`;
      m = /^body\.(\d+)\.(weight|bias)$/.exec(key);
      if (m && Number(m[1]) === numBlock) return `conv_after_body.${m[2]}`;
      m = /^tail\.0\.(\d+)\.(weight|bias)$/.exec(key);
      if (m) return `upsample.${m[1]}.${m[2]}`;
      return key.replace(/^head\.0\./, 'conv_first.').replace(/^tail\.1\./, 'conv_last.');
    });
    return { config, weights };
  },
};

/**
 * BasicSR's EDSR, our EDSR family's own layout (conv_first, body.N.conv1/2, conv_after_body,
 * upsample.N, conv_last). BasicSR keeps the mean and range as options, not tensors: its
 * defaults (DIV2K mean, 0-255) are those of every released BasicSR EDSR.
 */
export const edsrBasicSR: TorchLayout = {
  architecture: 'EDSR (BasicSR layout)',
  matches: (sd) => sd.has('conv_first.weight') && sd.has('body.0.conv1.weight') && sd.has('conv_after_body.weight'),
  convert: (sd) => {
    const numFeat = shapeOf(sd, 'conv_first.weight')[0]!;
    const up = shapeOf(sd, 'upsample.0.weight')[0];
    const upscale = up === 9 * numFeat ? 3 : up !== 4 * numFeat ? undefined : sd.has('upsample.2.weight') ? 4 : 2;
    if (!upscale) throw new CheckpointError(`upsample.0 makes ${up} channels from ${numFeat}: not a x2, x3 or x4 upsampler`);
    const config: ModelConfig = {
      family: 'edsr',
      num_in_ch: 3,
      num_out_ch: 3,
      num_feat: numFeat,
      num_block: countIndexed(sd, 'body.', '.conv1.weight'),
      upscale,
      res_scale: numFeat >= 256 ? 0.1 : 1,
      img_range: 255,
      rgb_mean: DIV2K_RGB_MEAN,
    };
    return { config, weights: sd };
  },
};
