#!/usr/bin/env bash
# Packs what a bare GPU machine needs to run the training checks (scripts/bench/device-train.sh)
# into the git-ignored .device/: Node itself, onnxruntime-node (Linux x64 only) and sharp with
# their dependencies, esbuild bundles of the CLI and bench:train, and a small data sample
# (50 of the smallest train291 images, Set5 x2) from ../shared. Run from the repo root.
set -euo pipefail
D=.device
mkdir -p $D/app $D/data
[ -f $D/node.tar.xz ] || tar -C / -cJf $D/node.tar.xz usr/bin/node
tar -C node_modules -cJf $D/ort.tar.xz --exclude='*/win32/*' --exclude='*/darwin/*' --exclude='*/linux/arm64/*' onnxruntime-node onnxruntime-common
tar -C node_modules -cJf $D/sharp.tar.xz sharp @img/colour @img/sharp-libvips-linux-x64 @img/sharp-linux-x64 detect-libc semver
banner='import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);'
for entry in scripts/bench/train.ts:bench-train scripts/cli/main.ts:minisr; do
  npx esbuild "${entry%%:*}" --bundle --platform=node --format=esm --target=node20 --external:onnxruntime-node --external:sharp \
    "--banner:js=$banner" --outfile="$D/app/${entry##*:}.mjs" --log-level=warning
done
cp scripts/bench/train_torch.py scripts/bench/torch_archs.py $D/app/
shared=${SHARED:-../shared}
rm -rf $D/data/train $D/data/set5 && mkdir -p $D/data/train $D/data/set5
ls -Sr "$shared/datasets/train291" | head -50 | while read -r f; do cp "$shared/datasets/train291/$f" $D/data/train/; done
cp "$shared"/datasets/Set5/x2/* $D/data/set5/
du -sh $D
