import { CheckpointError } from '../io/pth';
import type { StateDict } from '../io/tensor';
import type { ModelConfig } from '../zoo/registry';
import { countIndexed, renameKeys, shapeOf, type TorchLayout } from './torch-layout';

/** conv_first's input channels give the scale: RGB for x4, pixel-unshuffled RGB for x2 (12) and x1 (48). */
const SCALE_BY_INPUT: Readonly<Record<number, 1 | 2 | 4>> = { 3: 4, 12: 2, 48: 1 };

function rrdbConfig(sd: StateDict, numBlock: number): ModelConfig {
  const first = shapeOf(sd, 'conv_first.weight');
  const scale = SCALE_BY_INPUT[first[1]!];
  if (!scale) throw new CheckpointError(`conv_first takes ${first[1]} channels: not RGB (3) nor pixel-unshuffled RGB (12, 48)`);
  const out = shapeOf(sd, 'conv_last.weight')[0];
  if (out !== 3) throw new CheckpointError(`conv_last makes ${out} channels, not RGB`);
  return {
    family: 'rrdbnet',
    num_in_ch: 3,
    num_out_ch: 3,
    num_feat: first[0]!,
    num_block: numBlock,
    num_grow_ch: shapeOf(sd, 'body.0.rdb1.conv1.weight')[0]!,
    scale,
  };
}

/** BasicSR / Real-ESRGAN: conv_first, body.N.rdb{1,2,3}.conv{1..5}, conv_body, conv_up1/2, conv_hr, conv_last. */
export const rrdbnetBasicSR: TorchLayout = {
  architecture: 'RRDBNet (ESRGAN, BasicSR layout)',
  matches: (sd) => sd.has('conv_first.weight') && sd.has('body.0.rdb1.conv1.weight') && sd.has('conv_body.weight'),
  convert: (sd) => ({ config: rrdbConfig(sd, countIndexed(sd, 'body.', '.rdb1.conv1.weight')), weights: sd }),
};

/**
 * The original ESRGAN layout (one flattened nn.Sequential `model`): model.0 is conv_first,
 * model.1.sub.N.RDBk.convj.0 the dense blocks and model.1.sub.<num_block> conv_body; then, per
 * x2 stage, [upsample, conv, lrelu] (model.3, model.6), conv_hr (model.8) and conv_last (model.10).
 */
export const rrdbnetESRGAN: TorchLayout = {
  architecture: 'RRDBNet (ESRGAN, original layout)',
  matches: (sd) => sd.has('model.0.weight') && sd.has('model.1.sub.0.RDB1.conv1.0.weight'),
  convert: (sd) => {
    const numBlock = countIndexed(sd, 'model.1.sub.', '.RDB1.conv1.0.weight');
    const top = Math.max(...[...sd.keys()].map((k) => /^model\.(\d+)\./.exec(k)).map((m) => (m ? Number(m[1]) : 0)));
    const stages = (top - 4) / 3;
    if (stages !== 2) {
      throw new CheckpointError(`this ESRGAN has ${stages} upsampling stages (last layer model.${top}); only x4 (two stages) is supported`);
    }
    const renamed = renameKeys(sd, (key) => {
      let m = /^model\.1\.sub\.(\d+)\.RDB(\d)\.conv(\d)\.0\.(weight|bias)$/.exec(key);
      if (m) return `body.${m[1]}.rdb${m[2]}.conv${m[3]}.${m[4]}`;
      m = /^model\.1\.sub\.(\d+)\.(weight|bias)$/.exec(key);
      if (m && Number(m[1]) === numBlock) return `conv_body.${m[2]}`;
      m = /^model\.(\d+)\.(weight|bias)$/.exec(key);
      const name = m && { 0: 'conv_first', 3: 'conv_up1', 6: 'conv_up2', 8: 'conv_hr', 10: 'conv_last' }[Number(m[1])];
      // Anything else keeps its name, so strict binding reports it as unexpected.
      return name && m ? `${name}.${m[2]}` : key;
    });
    return { config: rrdbConfig(renamed, numBlock), weights: renamed };
  },
};

/** xinntao/ESRGAN's own RRDBNet (the official ESRGAN weights, BSRGAN, RealSR): RRDB_trunk, trunk_conv, upconvN, HRconv. */
export const rrdbnetESRGANRepo: TorchLayout = {
  architecture: 'RRDBNet (ESRGAN repository layout)',
  matches: (sd) => sd.has('conv_first.weight') && sd.has('RRDB_trunk.0.RDB1.conv1.weight') && sd.has('trunk_conv.weight'),
  convert: (sd) => {
    const renamed = renameKeys(sd, (key) =>
      key
        .replace(/^RRDB_trunk\.(\d+)\.RDB(\d)\./, 'body.$1.rdb$2.')
        .replace(/^trunk_conv\./, 'conv_body.')
        .replace(/^upconv([12])\./, 'conv_up$1.')
        .replace(/^HRconv\./, 'conv_hr.'),
    );
    return { config: rrdbConfig(renamed, countIndexed(renamed, 'body.', '.rdb1.conv1.weight')), weights: renamed };
  },
};
