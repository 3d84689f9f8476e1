#!/usr/bin/env bash
# Runs evaluate_sample.py for every combination of checkpoints and streams, writing
# out/<name>.txt in the repository (or $OUT_DIR/<name>.txt). Combinations whose
# checkpoints are absent are reported and skipped; the others still run. Extra arguments
# go to every run (e.g. --video clip.mp4, --checkpoint_dir DIR); relative paths in them
# and in OUT_DIR are taken from the folder it is called from.
# Unlike the original script, --noimagenet_pretrained is passed as absl's boolean
# negation, so the no_imagenet_* runs really use the *_scratch checkpoints.
set -u
root=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-$root/.venv/bin/python}
out=${OUT_DIR:-$root/out}
mkdir -p "$out"
failed=0
run() {
  local name=$1; shift
  # Written under a temporary name (with the usual umask), renamed when complete.
  local temporary="$out/.$name.$$.tmp"
  "$python" "$root/evaluate_sample.py" "$@" > "$temporary" 2> "$temporary.err"
  local status=$?
  if [ $status -eq 0 ]; then
    mv "$temporary" "$out/$name.txt"
    echo "$name: $out/$name.txt"
  elif [ $status -eq 3 ]; then
    echo "$name: skipped, $(tail -n 1 "$temporary.err" | sed 's/^evaluate_sample.py: //')"
  else
    echo "$name: failed: $(tail -n 1 "$temporary.err")"
    failed=1
  fi
  rm -f "$temporary" "$temporary.err"
}
for eval_type in rgb flow joint; do
  run "imagenet_$eval_type" --eval_type "$eval_type" --imagenet_pretrained "$@"
  run "no_imagenet_$eval_type" --eval_type "$eval_type" --noimagenet_pretrained "$@"
done
run no_imagenet_rgb600 --eval_type rgb600 --noimagenet_pretrained "$@"
exit $failed
