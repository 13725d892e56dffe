"""labtorch: the WebGPU training lab's experiments in plain PyTorch, to run them at scale with torchrun.

The same seed gives the same examples, batches and masks as the lab (rng.py ports its generator bit for bit), the
model is nanoGPT's GPT with the lab's two extensions (bidirectional attention, extra multi-token heads), and the
checkpoints are the lab's safetensors files, so a run can start in the browser, continue here and go back.

    python -m labtorch experiment.json --out runs/               # one process
    torchrun --nproc_per_node=8 -m labtorch experiment.json --out runs/   # DDP over 8 GPUs (or ranks on a CPU)
"""
