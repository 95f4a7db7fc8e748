#!/bin/bash
# What the two pyverbs suites share (sourced).

# rdma-core's wrapper that sets PYTHONPATH and runs Debian's python3, which
# pyverbs is built against (not the pyenv one on PATH).
pyverbs_run_tests=$RDG_TOP/build/rdma-core/build/bin/run_tests.py

# rdma-core's dma-buf MR test classes. pyverbs-dmabuf runs them once per
# host dma-buf backend; the pyverbs suite leaves them to it.
pyverbs_dmabuf_classes="DmaBufMRTest DmaBufTestCase DmaBufMoveTest"
