#!/usr/bin/env python3
"""PyTorch's RMS norm on this GPU, the yardstick for ilgpunorm's CUDA figures (see docs/gpu.md).

For each shape and dtype it times, with CUDA events (warm-up, then the median of --iters launches):

  F.rms_norm   torch.nn.functional.rms_norm(x, [hidden], w, eps)              (PyTorch >= 2.4)
  manual f32   (x.float() * torch.rsqrt(x.float().pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype) * w
               the formula in float32, rounded to the dtype before the weight (IlgpuNorm's policy)
  copy         a device-to-device copy of x's bytes into another buffer: the memory-bound limit

GB/s counts x read + w read + y written (for the copy: x read + written), as ilgpunorm demo does. Each line also
gives the largest |y - reference| against a float64 reference with the same rounding to the dtype, in units of the
dtype's epsilon, to show how the two PyTorch paths round.

Runs on the CPU too (--device cpu, timed with perf_counter) so the script itself can be tested without a GPU.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import torch

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", default="1x4096,32768x4096,32768x8192,8192x65536,4096x262144", help="comma-separated ROWSxHIDDEN (default: %(default)s)")
    parser.add_argument("--dtypes", default="bf16,fp16,fp32", help="comma-separated, of bf16, fp16, fp32 (default: %(default)s)")
    parser.add_argument("--iters", type=int, default=50, help="timed launches, the median is reported (default: %(default)s)")
    parser.add_argument("--warmup", type=int, default=10, help="untimed launches first (default: %(default)s)")
    parser.add_argument("--eps", type=float, default=1e-6, help="epsilon (default: %(default)s)")
    parser.add_argument("--device", default=None, help="cuda, cuda:N or cpu (default: cuda, which must be available)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-compile", action="store_true", help="skip the torch.compile'd rms_norm (compiling takes ~1 min)")
    args = parser.parse_args(argv)
    try:
        args.shapes = [tuple(int(n) for n in s.lower().split("x")) for s in args.shapes.split(",")]
    except ValueError:
        parser.error(f"--shapes: expected ROWSxHIDDEN[,...]; got {args.shapes!r}")
    if any(len(s) != 2 or min(s) < 1 for s in args.shapes):
        parser.error(f"--shapes: expected positive ROWSxHIDDEN pairs; got {args.shapes}")
    unknown = [d for d in args.dtypes.split(",") if d not in DTYPES]
    if unknown:
        parser.error(f"--dtypes: expected some of {', '.join(DTYPES)}; got {', '.join(unknown)}")
    args.dtypes = args.dtypes.split(",")
    if args.iters < 1 or args.warmup < 0:
        parser.error("--iters must be >= 1 and --warmup >= 0")
    return args


def median_seconds(fn, device: torch.device, iters: int, warmup: int) -> float:
    """Median duration of fn() over iters launches after warmup ones: CUDA events on a GPU, perf_counter on a CPU."""
    for _ in range(warmup):
        fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        pairs = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)) for _ in range(iters)]
        for start, end in pairs:
            start.record()
            fn()
            end.record()
        torch.cuda.synchronize(device)
        return statistics.median(start.elapsed_time(end) for start, end in pairs) / 1e3
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def manual_f32(x: torch.Tensor, w: torch.Tensor, eps: float) -> torch.Tensor:
    x32 = x.float()
    return (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype) * w


def reference(x: torch.Tensor, w: torch.Tensor, eps: float) -> torch.Tensor:
    """float64 normalization, rounded to the dtype, times the weight in float64 (the error budget's reference)."""
    x64 = x.double()
    y = (x64 / torch.sqrt(x64.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype).double()
    return y * w.double()


def max_error_in_eps(y: torch.Tensor, ref: torch.Tensor) -> float:
    """Largest |y - ref| relative to max(|ref|, 1), in units of the dtype's machine epsilon."""
    err = ((y.double() - ref).abs() / ref.abs().clamp(min=1.0)).max().item()
    return err / torch.finfo(y.dtype).eps


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.device is None:
        if not torch.cuda.is_available():
            print("torch_rmsnorm_bench: PyTorch sees no CUDA device (torch.cuda.is_available() is False); "
                  "pass --device cpu to run on the CPU", file=sys.stderr)
            return 1
        args.device = "cuda"
    device = torch.device(args.device)
    has_rms_norm = hasattr(torch.nn.functional, "rms_norm")

    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        where = (f"{props.name} (sm_{props.major}{props.minor}, {props.multi_processor_count} SMs, "
                 f"{props.total_memory / 2**30:.0f} GiB), CUDA {torch.version.cuda}, CUDA events")
    else:
        where = f"CPU ({torch.get_num_threads()} threads), perf_counter"
    print(f"torch {torch.__version__} on {where}; eps {args.eps:g}; median of {args.iters} after {args.warmup} warm-up")
    if not has_rms_norm:
        print(f"note: torch {torch.__version__} has no torch.nn.functional.rms_norm (added in 2.4): F.rms_norm skipped")
    print("GB/s: x read + w read + y written; copy: x read + written; err: max |y - float64 reference| in dtype eps")
    print()
    header = f"{'shape':<15} {'dtype':<5} {'op':<11} {'median us':>10} {'GB/s':>8} {'% of copy':>9} {'err (eps)':>9}"
    print(header)
    print("-" * len(header))

    compiled = None
    if not args.no_compile and hasattr(torch, "compile"):
        eps = args.eps
        try:
            if has_rms_norm:
                compiled = torch.compile(lambda x, w: torch.nn.functional.rms_norm(x, [x.shape[-1]], w, eps), dynamic=False)
            else:
                compiled = torch.compile(lambda x, w: manual_f32(x, w, eps), dynamic=False)
        except Exception as error:  # noqa: BLE001 - report and go on without it
            print(f"note: torch.compile unavailable: {error}")

    generator = torch.Generator(device="cpu").manual_seed(args.seed)
    for rows, hidden in args.shapes:
        x_host = torch.randn(rows, hidden, generator=generator)
        w_host = 1.0 + 0.1 * torch.randn(hidden, generator=generator)
        for name in args.dtypes:
            dtype = DTYPES[name]
            x = x_host.to(device=device, dtype=dtype)
            w = w_host.to(device=device, dtype=dtype)
            dst = torch.empty_like(x)
            ref = reference(x, w, args.eps)
            element = x.element_size()
            norm_bytes = 2 * x.numel() * element + w.numel() * element
            copy_bytes = 2 * x.numel() * element

            copy_s = median_seconds(lambda: dst.copy_(x), device, args.iters, args.warmup)
            copy_gbs = copy_bytes / copy_s / 1e9
            ops = []
            if has_rms_norm:
                ops.append(("F.rms_norm", lambda: torch.nn.functional.rms_norm(x, [hidden], w, args.eps)))
            ops.append(("manual f32", lambda: manual_f32(x, w, args.eps)))
            if compiled is not None:
                ops.append(("compiled", lambda: compiled(x, w)))

            label = f"[{rows}, {hidden}]"
            for op_name, fn in ops:
                err = max_error_in_eps(fn(), ref)
                seconds = median_seconds(fn, device, args.iters, args.warmup)
                gbs = norm_bytes / seconds / 1e9
                print(f"{label:<15} {name:<5} {op_name:<11} {seconds * 1e6:>10.1f} {gbs:>8.1f} "
                      f"{100 * gbs / copy_gbs:>8.0f}% {err:>9.2f}")
                label = ""
            print(f"{label:<15} {name:<5} {'copy':<11} {copy_s * 1e6:>10.1f} {copy_gbs:>8.1f} {'100%':>9} {'':>9}")
            del x, w, dst, ref
        if device.type == "cuda":
            torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
