#!/usr/bin/env bash
# The model-zoo training run for a lent GPU machine (issues 11 and 14), one command of about
# BUDGET (420) seconds from the repo root, with .device/ (ZOO=1 scripts/bench/bundle-device.sh)
# and .gl/ (Vulkan loader .debs) carried. One small WebGPU process leaves an H200 mostly idle, so
# the runs go side by side, each with its own cache:
#  a. x4: the EDSR-baseline x4 teacher (body from edsr-baseline-x2, or a carried x4 run continued),
#     then EDSRmini x4 distilled from it with --init inherit;   b. x3: the same chain;
#  c. SwinIRmini x2 distilled from edsr-baseline-x2;   d. edsr-mini-x2 fine-tuned on photo
#     degradations mixed half and half with clean samples;   e. EDSRmini x2 distilled with
#     inherited vs random init, same seed and steps (Set5 at fixed steps).
# Steps come from speeds guessed for an H200 (env overrides); --max-seconds stops a slower run at a
# checkpoint and still exports it. Run folders (model, card, latest checkpoint, logs) come back
# as one tar.xz split into <= 15 MiB parts in $OUT; join with `cat zoo.tar.xz.* | tar -xJ`.
# Locally: EP=cpu BUDGET=150 TINY=1 (a few steps of each, see the README).
set -u
T0=$SECONDS
B=${BUDGET:-420}
EP=${EP:-webgpu}
D=.device
Z=$D/zoo
O=${OUT:-/tmp/out}
R=/tmp/zoo-runs # run folders, logs and caches; a rerun starts afresh
rm -rf $R && mkdir -p "$O" $R/cache /tmp/n node_modules
tar -C /tmp/n -xJf $D/node.tar.xz && tar -C node_modules -xJf $D/ort.tar.xz && tar -C node_modules -xJf $D/sharp.tar.xz || exit 1
N=/tmp/n/usr/bin/node
[ -f $D/app/minisr.mjs ] || xz -dk $D/app/minisr.mjs.xz || exit 1
# The bare machine has no Vulkan loader; a machine that has one (this one, with lavapipe) keeps its own.
if ! ldconfig -p | grep -q libvulkan.so.1; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
NV=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -f $NV ] && export VK_DRIVER_FILES=$NV
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

# Steps: a guess of steps/s on the H200 with six runs sharing it, times the seconds each run gets.
s() { if [ -n "${TINY:-}" ]; then echo "$2"; else echo "$1"; fi; }
TEACHER_STEPS=${TEACHER_STEPS:-$(s 600 4)}
STUDENT_STEPS=${STUDENT_STEPS:-$(s 1200 4)}
SWIN_STEPS=${SWIN_STEPS:-$(s 800 4)}
PHOTO_STEPS=${PHOTO_STEPS:-$(s 1500 4)}
AB_STEPS=${AB_STEPS:-$(s 1500 4)}
BATCH=${BATCH:-$(s 16 2)}
WARMUP=$(s 20 1)
PATCH=${PATCH:-$(s 48 24)}
END=$((T0 + B - 40)) # packing needs the last ~40 s
common="--ep $EP --threads 2 --batch $BATCH --patch $PATCH --seed 1 --json"
left() { echo $((END - SECONDS)); }
# One run: name, then the minisr arguments. It stops at --max-seconds (its share of what is left,
# less 20 s for the final validation and export); `timeout` is the hard stop behind it.
run() {
  local name=$1 share=$2
  shift 2
  local t=$(($(left) * share / 100))
  [ $t -lt 40 ] && echo "$(date +%T) skip $name: ${t} s left" && return
  echo "$(date +%T) start $name (${t} s)"
  # -k: the CLI checkpoints on SIGTERM between steps, but not inside the teacher cache.
  timeout -k 10 $((t + 20)) $N $D/app/minisr.mjs "$@" --max-seconds $((t - 20)) --out $R/$name --cache-dir $R/cache/$name >$R/$name.jsonl 2>$R/$name.err
  local rc=$?
  echo "$(date +%T) $name: exit $rc; $(grep -h '"result"' $R/$name.jsonl | cut -c1-300)$(tail -1 $R/$name.err)"
}
every() { echo $(($1 / 4 > 0 ? $1 / 4 : 1)); } # validation and checkpoints at a quarter of the steps

chain() { # scale, teacher init flags...: teacher for ~half the time left, then the student
  local x=$1
  shift
  run teacher-x$x 47 train --preset edsr-baseline --scale $x "$@" --data $Z/train --val $Z/set5-x$x $common \
    --steps $TEACHER_STEPS --val-interval $(every $TEACHER_STEPS) --checkpoint-interval $(every $TEACHER_STEPS) --warmup $WARMUP
  [ -f $R/teacher-x$x/model.onnx ] || return
  run mini-x$x 100 distill --teacher $R/teacher-x$x/model.onnx --student edsr-mini --scale $x --init inherit --level-weights inverse \
    --data $Z/train --val $Z/set5-x$x $common --steps $STUDENT_STEPS --lr 1e-3 --warmup $WARMUP \
    --val-interval $(every $STUDENT_STEPS) --checkpoint-interval $(every $STUDENT_STEPS)
}
distil_x2() { # name, steps, student flags...: distilled from the shipped x2 teacher
  local name=$1 n=$2
  shift 2
  run $name 100 distill --teacher models/edsr-baseline-x2.onnx --level-weights inverse --data $Z/train --val $Z/set5-x2 $common \
    --steps $n --val-interval $(every $n) --checkpoint-interval $(every $n) --warmup $WARMUP "$@"
}

# x4 continues the carried teacher run where there is one (TEACHER_X4 in the bundle), else starts as x3.
if [ -f $Z/teacher-x4.safetensors ]; then chain 4 --init $Z/teacher-x4.safetensors --lr 1e-4 & else
  chain 4 --init models/edsr-baseline-x2.onnx --init-partial --lr 2e-4 &
fi
chain 3 --init models/edsr-baseline-x2.onnx --init-partial --lr 2e-4 &
distil_x2 swinir-mini-x2 $SWIN_STEPS --student swinir-mini --lr 5e-4 &
run photo-x2 100 train --preset edsr-mini --init models/edsr-mini-x2.onnx --degrade photo --degrade-clean-fraction 0.5 \
  --data $Z/train --val $Z/set5-x2 $common --steps $PHOTO_STEPS --lr 2e-4 --warmup $WARMUP \
  --val-interval $(every $PHOTO_STEPS) --checkpoint-interval $(every $PHOTO_STEPS) &
distil_x2 ab-inherit-x2 $AB_STEPS --student edsr-mini --lr 1e-3 --init inherit &
distil_x2 ab-random-x2 $AB_STEPS --student edsr-mini --lr 1e-3 &
wait

# Pack: per run the model, its card and config, the latest checkpoint, the logs.
cd $R || exit 1
list=()
for r in *.jsonl; do
  r=${r%.jsonl}
  for f in model.onnx model.json config.json latest.json inherit.safetensors; do [ -f $r/$f ] && list+=("$r/$f"); done
  [ -f $r/latest.json ] && ck=$(sed -n 's/.*"checkpoint": *"\([^"]*\)".*/\1/p' $r/latest.json) && list+=("$r/$ck".*)
  list+=("$r.jsonl" "$r.err")
done
tar -cf - "${list[@]}" | xz -T0 -3 >/tmp/zoo.tar.xz
# Two teachers' checkpoints (weights, EMA, Adam moments: 24 MB each) may not fit the 64 MiB that
# comes back: then they stay behind (a teacher resumes from its model.onnx with --init instead).
if [ "$(stat -c %s /tmp/zoo.tar.xz)" -gt $((60 * 1024 * 1024)) ]; then
  echo "over 60 MiB: leaving the teachers' checkpoints out"
  printf '%s\n' "${list[@]}" | grep -v '^teacher-x[0-9]*/checkpoints/' | tar -cf - -T - | xz -T0 -3 >/tmp/zoo.tar.xz
fi
split -b 15M -d -a 1 /tmp/zoo.tar.xz "$O/zoo.tar.xz."
ls -l "$O"
echo "total $((SECONDS - T0)) s"
