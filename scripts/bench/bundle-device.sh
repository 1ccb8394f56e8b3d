#!/usr/bin/env bash
# Packs what a bare GPU machine needs to run the training checks (scripts/bench/device-train.sh)
# into the git-ignored .device/: Node itself, onnxruntime-node (Linux x64 only) and sharp with
# their dependencies, esbuild bundles of the CLI and bench:train, and a small data sample
# (50 of the smallest train291 images, Set5 x2) from ../shared. Run from the repo root.
# ZOO=1 packs the data of scripts/bench/device-zoo.sh instead (.device/zoo): Set5 x2-x4, as much
# of train291 as keeps the tree that travels under 64 MiB, and with TEACHER_X4=FILE the weights
# of an x4 teacher run to continue.
set -euo pipefail
D=.device
mkdir -p $D/app
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
if [ -n "${ZOO:-}" ]; then
  Z=$D/zoo
  rm -rf $D/data $Z && mkdir -p $Z/train
  for x in 2 3 4; do mkdir $Z/set5-x$x && cp "$shared"/datasets/Set5/x$x/* $Z/set5-x$x/; done
  # Only what the zoo runs: the CLI, compressed (4 MB of JavaScript is 0.8 MB of xz).
  rm -f $D/app/bench-train.mjs $D/app/*.py && xz -9 -f $D/app/minisr.mjs
  # Optional: 6 MB of weights are ~40 training images, and the 637 CPU steps behind them ~30 s of the H200's.
  [ -n "${TEACHER_X4:-}" ] && cp "$TEACHER_X4" $Z/teacher-x4.safetensors
  # What travels: tracked and untracked-not-ignored files, .device, .gl; 1 MiB kept spare.
  used=$( (git ls-files -z && git ls-files -z -o --exclude-standard) | du -cb --files0-from=- | tail -1 | cut -f1)
  room=$((63 * 1024 * 1024 - used - $(du -sb $D .gl 2>/dev/null | awk '{ s += $1 } END { print s }')))
  # train291 in an order fixed by the names' hashes (no bias to either source set or to small images).
  for f in "$shared"/datasets/train291/*; do echo "$(basename "$f" | md5sum | cut -c1-8) $f"; done | sort | cut -d' ' -f2- |
    while read -r f; do
      size=$(stat -c %s "$f")
      [ "$size" -gt "$room" ] && continue
      room=$((room - size)) && cp "$f" $Z/train/
    done
  echo "train291: $(ls $Z/train | wc -l) images, $(du -sh $Z/train | cut -f1)"
  du -sh $D
  exit 0
fi
rm -rf $D/zoo $D/data/train $D/data/set5 && mkdir -p $D/data/train $D/data/set5
ls -Sr "$shared/datasets/train291" | head -50 | while read -r f; do cp "$shared/datasets/train291/$f" $D/data/train/; done
cp "$shared"/datasets/Set5/x2/* $D/data/set5/
du -sh $D
