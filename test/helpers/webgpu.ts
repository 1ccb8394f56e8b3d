import { vulkanDriverManifests } from '../../engine/runtime/adapter';
import { providerAvailability, webgpuHint } from '../../engine/runtime/providers';

/**
 * Whether the WebGPU tests can run: the bundled WebGPU EP, the Vulkan loader and a Vulkan driver
 * (in CI, Mesa's lavapipe; see README "WebGPU tests"). Absent, they are skipped loudly, and under
 * CI=true their absence is a failure: the GPU path must never go untested silently.
 */
export function webgpuAvailable(what: string): boolean {
  const missing: string[] = [];
  const ep = providerAvailability('webgpu');
  if (!ep.available) missing.push(ep.reason ?? 'no WebGPU provider');
  const hint = webgpuHint();
  if (hint) missing.push(hint);
  if (vulkanDriverManifests().length === 0) missing.push('no Vulkan driver (ICD manifest) installed: install mesa-vulkan-drivers');
  if (missing.length === 0) return true;
  const why = missing.join('; ');
  if (process.env.CI === 'true')
    throw new Error(`WebGPU tests cannot run (${why}); CI must install lavapipe (.ci/run). Needed by: ${what}`);
  console.warn(`\n*** SKIPPING ${what}: ${why} ***\n`);
  return false;
}
