# The two set-up commands of the README: `make demo` and `make test`. Each installs what it needs.
VENV     ?= .venv
PY       := $(VENV)/bin/python
DATA     ?= data/synth_cxr
WORK_DIR ?= work_dirs/demo
# `make demo`: supervised on the labelled 10%, then AnoMed from that checkpoint (both SIB + FA)
SUP_CONFIG    ?= configs/sib/faster-rcnn_r18-slim_sib-fa_cpu-0.5k_synth-cxr-10pct.py
ANOMED_CONFIG ?= configs/anomed/anomed_faster-rcnn_r18-slim_sib-fa_cpu-0.3k-ft_synth-cxr.py
# `make demo-supervised`: the Faster R-CNN baseline on every training label
CONFIG   ?= configs/faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py
PYTEST_ARGS ?= -m "not slow"

.PHONY: install demo demo-supervised test test-all data

install:
	VENV=$(VENV) bash tools/install_env.sh

data: install
	$(PY) tools/misc/gen_synth_cxr.py $(DATA) --num-images 1000 --skip-existing

# Generate the synthetic chest X-rays; train the AnoMed detector on the labelled 10%; continue
# with AnoMed (PLO) on labelled + unlabelled images; test both (COCO AP, per-class AP; the
# AnoMed checkpoint is evaluated with its teacher), draw AnoMed's predictions over test images
# and print the two side by side.
demo: data
	$(PY) tools/train.py $(SUP_CONFIG) --work-dir $(WORK_DIR)/supervised-10pct
	$(PY) tools/test.py $(SUP_CONFIG) $$(cat $(WORK_DIR)/supervised-10pct/last_checkpoint) --work-dir $(WORK_DIR)/supervised-10pct
	$(PY) tools/train.py $(ANOMED_CONFIG) --work-dir $(WORK_DIR)/anomed \
	    --cfg-options load_from=$$(cat $(WORK_DIR)/supervised-10pct/last_checkpoint)
	$(PY) tools/test.py $(ANOMED_CONFIG) $$(cat $(WORK_DIR)/anomed/last_checkpoint) --work-dir $(WORK_DIR)/anomed --show-dir test_vis
	$(PY) tools/analysis_tools/summarize_results.py $(WORK_DIR)/supervised-10pct $(WORK_DIR)/anomed

# The supervised Faster R-CNN baseline on every training label (the foundation's demo).
demo-supervised: data
	$(PY) tools/train.py $(CONFIG) --work-dir work_dirs/demo-supervised
	$(PY) tools/test.py $(CONFIG) $$(cat work_dirs/demo-supervised/last_checkpoint) --work-dir work_dirs/demo-supervised --show-dir test_vis

test: install
	$(PY) -m pytest $(PYTEST_ARGS) tests

# Everything, the slow end-to-end tests included.
test-all: install
	$(PY) -m pytest tests
