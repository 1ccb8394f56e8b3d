#!/usr/bin/env bash
# The training checks for a machine with a GPU, run from the repo root there with .device/
# (made by scripts/bench/bundle-device.sh) and .gl/ (Vulkan loader .debs) beside it:
#  1. the EDSRmini and SwinIRmini training step on the WebGPU EP, its loss/gradients against the
#     CPU EP, and ORT's verbose node placement (which nodes fall back to the CPU), for both update
#     paths (host: gradients down, Adam/EMA on the host; graph: Adam/EMA in the step graph, state
#     kept on the GPU);
#  2. steps/s on WebGPU next to PyTorch on CUDA, and on the CPU EP next to PyTorch on the CPU,
#     both update paths interleaved in one run;
#  3. `minisr distill --ep webgpu` end to end (teacher cache, steps, validation, export).
# Results go to $OUT (default /tmp/out). Every part runs even if one before it failed.
# PARTS (default "1 2a 2b 3") picks parts; 2c is the CPU EP with spinning worker threads, 2d with
# parallel execution of independent graph branches. RUNS (default 9): timed steps of 2a; T1, T2:
# time limits (s) of parts 1 and 2a; BENCH_ARGS: extra bench:train flags. A dry run on lavapipe:
# VK_DRIVER_FILES=/usr/share/vulkan/icd.d/lvp_icd.json BENCH_ARGS='--batch 2 --patch 16' RUNS=2.
# STUDENTS (default "edsr-mini swinir-mini") picks the models of part 3.
set -u
D=.device
O=${OUT:-/tmp/out}
mkdir -p "$O" /tmp/n node_modules
tar -C /tmp/n -xJf $D/node.tar.xz && tar -C node_modules -xJf $D/ort.tar.xz && tar -C node_modules -xJf $D/sharp.tar.xz || exit 1
N=/tmp/n/usr/bin/node
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
# (VK_DRIVER_FILES set beforehand picks another driver: lavapipe for a dry run on a machine without a GPU)
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json} PYTHON=python3
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
PARTS=" ${PARTS:-1 2a 2b 3} "
want() { [[ $PARTS == *" $1 "* ]]; }
part() { echo; echo "=== $*"; }

if want 1; then
part "1. WebGPU step: placement (ORT verbose) and gradients vs the CPU EP"
timeout ${T1:-200} $N $D/app/bench-train.mjs --ep webgpu --runs 1 --torch-device cuda --ort-verbose ${BENCH_ARGS:-} 2>"$O/ort-verbose.log"
echo "verbose log: $(wc -l <"$O/ort-verbose.log") lines"
grep -E "placed on \[" "$O/ort-verbose.log"
# The op types of the nodes placed on the CPU, counted (the lines after each 'placed on [CPU...' header).
awk -F'VerifyEachNodeIsAssignedToAnEp\\] ' 'NF>1 { s = $2; if (s ~ /placed on \[/) { cpu = (s ~ /CPUExecutionProvider/); next } if (cpu) { sub(/^ +/, "", s); split(s, a, " "); print a[1] } }' \
  "$O/ort-verbose.log" | sort | uniq -c | sort -rn | head -40
grep -iE "error|fallback|not supported|Memcpy" "$O/ort-verbose.log" | cut -c1-300 | sort | uniq -c | sort -rn | head -20
xz -9 "$O/ort-verbose.log"
fi

want 2a && part "2a. steps/s: WebGPU EP vs PyTorch CUDA" && timeout ${T2:-200} $N $D/app/bench-train.mjs --ep webgpu --runs ${RUNS:-9} --torch-device cuda ${BENCH_ARGS:-}
want 2b && part "2b. steps/s: CPU EP (all cores) vs PyTorch CPU (all cores)" && timeout 150 $N $D/app/bench-train.mjs --runs 5
want 2c && part "2c. steps/s: CPU EP (all cores, spinning) vs PyTorch CPU (all cores)" && timeout 90 $N $D/app/bench-train.mjs --runs 5 --spin
want 2d && part "2d. steps/s: CPU EP (all cores, parallel branches) vs PyTorch CPU (all cores)" && timeout 90 $N $D/app/bench-train.mjs --runs 5 --parallel

want 3 && part "3. minisr distill --ep webgpu"
want 3 && for s in ${STUDENTS:-edsr-mini swinir-mini}; do
  timeout 110 $N $D/app/minisr.mjs distill --teacher models/edsr-baseline-x2.onnx --student $s --ep webgpu --data $D/data/train --val $D/data/set5 \
    --steps 200 --val-interval 100 --batch 16 --patch 32 --lr 1e-3 --warmup 20 --level-weights inverse --no-worker --out /tmp/run-$s --cache-dir /tmp/cache --json >"$O/distill-$s.jsonl" 2>"$O/distill-$s.err"
  echo "$s: exit $?"
  grep -E '"(status|validation|result)"' "$O/distill-$s.jsonl" | grep -v teacher-cache | cut -c1-400
  grep '"progress"' "$O/distill-$s.jsonl" | tail -1
  tail -3 "$O/distill-$s.err"
done
true  # the parts not wanted leave a non-zero status behind
