import { CheckpointError } from '../io/pth';
import type { StateDict } from '../io/tensor';
import type { ModelConfig } from '../zoo/registry';
import { shapeOf, type TorchLayout } from './torch-layout';

/** Real-ESRGAN's SRVGGNetCompact: body.0 conv, body.1 PReLU slopes (1-D), ..., the last body conv. */
export const srvggCompact: TorchLayout = {
  architecture: 'SRVGGNetCompact (Real-ESRGAN)',
  matches: (sd) => sd.get('body.0.weight')?.shape.length === 4 && sd.get('body.1.weight')?.shape.length === 1,
  convert: (sd: StateDict) => {
    let convs = 0;
    while (sd.has(`body.${2 * convs}.weight`)) convs++;
    const numFeat = shapeOf(sd, 'body.0.weight')[0]!;
    // The last conv (body.2(n+1)) has no PReLU after it; n + 2 convs in all.
    const last = shapeOf(sd, `body.${2 * (convs - 1)}.weight`)[0]!;
    const upscale = Math.round(Math.sqrt(last / 3));
    if (convs < 2 || upscale * upscale * 3 !== last) {
      throw new CheckpointError(
        `body.${2 * (convs - 1)} makes ${last} channels: not 3 x scale^2 (an SRVGGNetCompact ends in a pixel shuffle to RGB)`,
      );
    }
    const config: ModelConfig = {
      family: 'srvgg',
      num_in_ch: 3,
      num_out_ch: 3,
      num_feat: numFeat,
      num_conv: convs - 2,
      upscale,
      act_type: 'prelu',
    };
    return { config, weights: sd };
  },
};
