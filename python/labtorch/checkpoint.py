"""The lab's checkpoint files (src/checkpoint/safetensors.ts), read and written here so that a run moves between the
browser and PyTorch in both directions:

  laneN-OBJECTIVE.safetensors            every parameter under nanoGPT's names (lm_head.weight tied to wte, written
                                         as a copy); __metadata__: format, config (nanoGPT's GPTConfig), lab_config
                                         (attention, extra_heads, top_head if any), objective, step, task, vocab
  laneN-OBJECTIVE.optimizer.safetensors  adam.m.<name>, adam.v.<name>; __metadata__: format, config, lab_config,
                                         step, rng_state [data, objective], extra {spec, lane, objectiveSpec, seconds}

safetensors itself is a small format (an 8-byte header length, a JSON header, raw little-endian data), so it is
read and written here without the `safetensors` package.
"""
import json
import struct

import torch

from .model import GPTConfig, param_table

MODEL_FORMAT = "webgpu-lab/1"
OPTIMIZER_FORMAT = "webgpu-lab-optimizer/1"
_DTYPES = {"F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2)}


class CheckpointError(ValueError):
    pass


def write_safetensors(path, tensors, metadata):
    """tensors: list of (name, tensor) written as float32 in that order; metadata: {str: str}."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors:
        data = t.detach().to("cpu", torch.float32).contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # align the data section to 8 bytes, as the reference implementation does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    """→ ({name: float32 tensor}, metadata dict)."""
    raw = open(path, "rb").read()
    if len(raw) < 8:
        raise CheckpointError(f"{path}: truncated (no header)")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise CheckpointError(f"{path}: header of {n} bytes runs past the end of the file")
    header = json.loads(raw[8 : 8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", {}) or {}
    data = raw[8 + n :]
    out = {}
    for name, e in header.items():
        if e["dtype"] not in _DTYPES:
            raise CheckpointError(f"{path}: tensor {name} has dtype {e['dtype']}; F32, F16 and BF16 are read")
        dtype, size = _DTYPES[e["dtype"]]
        a, b = e["data_offsets"]
        count = 1
        for d in e["shape"]:
            count *= d
        if b - a != size * count or b > len(data):
            raise CheckpointError(f"{path}: tensor {name}: data does not match its shape")
        buf = bytearray(data[a:b])
        t = torch.frombuffer(buf, dtype=dtype) if buf else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(e["shape"]).float()
    return out, metadata


def config_json(cfg):
    return {"vocab_size": cfg.vocab_size, "block_size": cfg.block_size, "n_layer": cfg.n_layer, "n_head": cfg.n_head,
            "n_embd": cfg.n_embd, "bias": True, "dropout": 0}


def lab_config_json(cfg):
    out = {"attention": cfg.attention, "extra_heads": cfg.extra_heads}
    if cfg.top_head:
        out["top_head"] = True  # only when present, so that other models' metadata stays as it was
    return out


def config_from_metadata(metadata):
    if "config" not in metadata:
        raise CheckpointError('the checkpoint has no "config" metadata')
    c = json.loads(metadata["config"])
    lab = json.loads(metadata.get("lab_config", "{}"))
    return GPTConfig(c["vocab_size"], c["block_size"], c["n_layer"], c["n_head"], c["n_embd"],
                     lab.get("attention", "causal"), lab.get("extra_heads", 0), bool(lab.get("top_head", False)))


def save_model(path, model, objective, step, task_spec, vocab):
    cfg = model.config
    params = dict(model.named_parameters())
    tensors = []
    for name, _, _ in param_table(cfg):
        tensors.append((name, params[name]))
        if name == "transformer.ln_f.bias":
            tensors.append(("lm_head.weight", params["transformer.wte.weight"]))  # nanoGPT's state_dict order
    write_safetensors(path, tensors, {
        "format": MODEL_FORMAT,
        "config": json.dumps(config_json(cfg), separators=(",", ":")),
        "lab_config": json.dumps(lab_config_json(cfg), separators=(",", ":")),
        "objective": objective,
        "step": json.dumps(step),
        "task": json.dumps(task_spec, separators=(",", ":"), ensure_ascii=False),
        "vocab": json.dumps(vocab, separators=(",", ":"), ensure_ascii=False),
    })


def load_model_into(path, model):
    """Copy a lab (or nanoGPT) checkpoint's weights into a model of the same config; returns the metadata."""
    tensors, metadata = read_safetensors(path)
    if "config" in metadata:
        found, want = config_from_metadata(metadata), model.config
        if found != want:
            raise CheckpointError(f"{path}: checkpoint config {found} does not match the experiment's model {want}")
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, shape, _ in param_table(model.config):
            if name not in tensors:
                raise CheckpointError(f"{path}: missing tensor {name}")
            if tuple(tensors[name].shape) != tuple(shape):
                raise CheckpointError(f"{path}: tensor {name} has shape {list(tensors[name].shape)}, expected {list(shape)}")
            params[name].copy_(tensors[name])
    return metadata


def save_optimizer(path, model, optimizer, step, rng_state, extra):
    """AdamW moments by parameter name, in the lab's layout (zeros where the optimizer has no state yet)."""
    cfg = model.config
    params = dict(model.named_parameters())
    m, v = [], []
    for name, _, _ in param_table(cfg):
        state = optimizer.state.get(params[name], {})
        m.append((f"adam.m.{name}", state.get("exp_avg", torch.zeros_like(params[name]))))
        v.append((f"adam.v.{name}", state.get("exp_avg_sq", torch.zeros_like(params[name]))))
    write_safetensors(path, m + v, {
        "format": OPTIMIZER_FORMAT,
        "config": json.dumps(config_json(cfg), separators=(",", ":")),
        "lab_config": json.dumps(lab_config_json(cfg), separators=(",", ":")),
        "step": json.dumps(step),
        "rng_state": json.dumps(rng_state),
        "extra": json.dumps(extra, separators=(",", ":"), ensure_ascii=False),
    })


def load_optimizer_into(path, model, optimizer):
    """Put a lab optimizer file's moments and step into a torch AdamW; returns (step, rng_state, extra)."""
    tensors, metadata = read_safetensors(path)
    if metadata.get("format") != OPTIMIZER_FORMAT:
        raise CheckpointError(f"{path}: not an optimizer-state file (format {metadata.get('format')!r})")
    step = json.loads(metadata["step"])
    params = dict(model.named_parameters())
    for name, shape, _ in param_table(model.config):
        p = params[name]
        m, v = tensors[f"adam.m.{name}"], tensors[f"adam.v.{name}"]
        optimizer.state[p] = {
            "step": torch.tensor(float(step)),
            "exp_avg": m.to(p.device, p.dtype).view(shape).clone(),
            "exp_avg_sq": v.to(p.device, p.dtype).view(shape).clone(),
        }
    return step, json.loads(metadata["rng_state"]), json.loads(metadata.get("extra", "{}"))
