# The two set-up commands of the README: `make demo` and `make test`. Each installs what it needs.
VENV     ?= .venv
PY       := $(VENV)/bin/python
DATA     ?= data/synth_cxr
WORK_DIR ?= work_dirs/demo
# `make demo`: the benchmark's protocol at demo size (tools/analysis_tools/benchmark_ssod.py --budget demo)
# `make demo-supervised`: the Faster R-CNN baseline on every training label
CONFIG   ?= configs/faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py
PYTEST_ARGS ?= -m "not slow"

.PHONY: install demo demo-supervised test test-all data

install:
	VENV=$(VENV) bash tools/install_env.sh

data: install
	$(PY) tools/misc/gen_synth_cxr.py $(DATA) --num-images 1000 --skip-existing

# Generate the synthetic chest X-rays; train the SIB + FA detector supervised on a 5% labelled
# fold (the supervised row); continue it with AnoMed (PLO) on labelled + unlabelled images, with
# the trunk's optimizer state and learning-rate curve; test both (COCO AP, per-class AP,
# mAP@0.4, FROC; AnoMed with its teacher) and print them side by side with the benchmark's figure.
demo: data
	$(PY) tools/analysis_tools/benchmark_ssod.py --budget demo --data-root $(DATA) --work-dir $(WORK_DIR) \
	    --results $(WORK_DIR)/results.jsonl --doc $(WORK_DIR)/report.md

# The supervised Faster R-CNN baseline on every training label (the foundation's demo).
demo-supervised: data
	$(PY) tools/train.py $(CONFIG) --work-dir work_dirs/demo-supervised
	$(PY) tools/test.py $(CONFIG) $$(cat work_dirs/demo-supervised/last_checkpoint) --work-dir work_dirs/demo-supervised --show-dir test_vis

test: install
	$(PY) -m pytest $(PYTEST_ARGS) tests

# Everything, the slow end-to-end tests included.
test-all: install
	$(PY) -m pytest tests
