# The two set-up commands of the README: `make demo` and `make test`. Each installs what it needs.
VENV     ?= .venv
PY       := $(VENV)/bin/python
DATA     ?= data/synth_cxr
CONFIG   ?= configs/faster_rcnn/faster-rcnn_r18-slim_fpn_cpu-1k_synth-cxr.py
WORK_DIR ?= work_dirs/demo
PYTEST_ARGS ?= -m "not slow"

.PHONY: install demo test test-all data

install:
	VENV=$(VENV) bash tools/install_env.sh

data: install
	$(PY) tools/misc/gen_synth_cxr.py $(DATA) --num-images 1000 --skip-existing

# Generate the synthetic chest X-rays, train the supervised baseline, test it (COCO AP + per-class
# AP) and draw predictions over test images into $(WORK_DIR)/<timestamp>/test_vis/.
demo: data
	$(PY) tools/train.py $(CONFIG) --work-dir $(WORK_DIR)
	$(PY) tools/test.py $(CONFIG) $$(cat $(WORK_DIR)/last_checkpoint) --work-dir $(WORK_DIR) --show-dir test_vis

test: install
	$(PY) -m pytest $(PYTEST_ARGS) tests

# Everything, the slow end-to-end tests included.
test-all: install
	$(PY) -m pytest tests
