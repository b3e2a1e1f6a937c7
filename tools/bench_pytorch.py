"""PyTorch speed reference for runexp's `bench`: one full training step of the reference
UNet (tools/reference/unet.py), or with --model of another model runexp has (the reference
implementation runexp's matches key for key), on the CPU, timed the way a PyTorch user would run it:

    --model unet            the DRIVE recipe's UNet (--base-c, --transposed)
    --model unetpp          UNet++ (tools/reference/nested_unet.py), nb_filter 32 ... 512
    --model deeplabv3plus   VainF's DeepLabV3+ on ResNet-18, output stride 16 (tools/reference/deeplabv3plus.py)
    --model lraspp          torchvision's lraspp_mobilenet_v3_large
    --model fcn_resnet50    torchvision's fcn_resnet50 (output stride 8, aux head, loss out + 0.5 aux)
    --model deeplabv3_resnet50  torchvision's deeplabv3_resnet50 (output stride 8, aux head, loss out + 0.5 aux)

A step is: forward, loss = cross-entropy (class weights [1, 2], ignore 255) + multiclass
Dice loss (tools/reference/losses.py, the recipe of the reference UNet), backward, and
SGD (lr 0.01, momentum 0.9, weight decay 1e-4). Input and targets are random (seeded);
about 5% of target pixels are 255. Tensors are PyTorch's default contiguous NCHW unless
--channels-last (--autocast-bf16: mixed precision, channels_last). After --warmup untimed steps, --steps steps are timed one by one.

    /tmp/torchvenv/bin/python tools/bench_pytorch.py            # base_c 32, bilinear, batch 4, 256x256
    /tmp/torchvenv/bin/python tools/bench_pytorch.py --threads 1 --channels-last
    /tmp/torchvenv/bin/python tools/bench_pytorch.py --model lraspp --channels-last    # vs runexp bench --config experiments/drive_lraspp.yaml

Prints one line: throughput in images/second (mean over the timed steps and best single
step), seconds per step, the peak resident set size of the process (ru_maxrss; also its
value before the model was built, mostly the torch library), and the 1-minute load average when the run started (the numbers mean little on a busy machine).
"""

import argparse
import os
import platform
import resource
import sys
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from tools.reference.losses import criterion  # noqa: E402
from tools.reference.unet import UNet, parameter_count  # noqa: E402


def parse():
    p = argparse.ArgumentParser(description="Time PyTorch UNet training steps on the CPU.")
    p.add_argument("--base-c", type=int, default=32, help="UNet base width (default 32)")
    p.add_argument("--batch", type=int, default=4, help="images per step (default 4)")
    p.add_argument("--size", type=int, default=256, help="image height and width (default 256)")
    p.add_argument("--classes", type=int, default=2, help="number of classes (default 2)")
    p.add_argument("--threads", type=int, default=os.cpu_count(),
                   help=f"torch.set_num_threads (default all cores: {os.cpu_count()})")
    p.add_argument("--steps", type=int, default=5, help="timed steps (default 5)")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first (default 2)")
    p.add_argument("--channels-last", action="store_true",
                   help="model and input in torch.channels_last (default: contiguous NCHW)")
    p.add_argument("--autocast-bf16", action="store_true",
                   help="forward and loss under torch.autocast('cpu', dtype=torch.bfloat16), implying "
                        "--channels-last: PyTorch's mixed precision, the peer of runexp's precision: bf16")
    p.add_argument("--transposed", action="store_true",
                   help="transposed-convolution upsampling (default: bilinear)")
    p.add_argument("--seed", type=int, default=0, help="seed for weights and data (default 0)")
    p.add_argument("--model", default="unet", choices=["unet", "unetpp", "deeplabv3plus", "lraspp", "fcn_resnet50", "deeplabv3_resnet50"],
                   help="the model to train (default: the recipe's UNet)")
    args = p.parse_args()
    if args.autocast_bf16:
        args.channels_last = True
    if min(args.base_c, args.batch, args.size, args.threads, args.steps) < 1 or args.warmup < 0:
        p.error("--base-c, --batch, --size, --threads and --steps must be at least 1, --warmup at least 0")
    if args.size < 16:
        p.error("--size must be at least 16 (the UNet pools four times)")
    return args


def build(args):
    if args.model == "unetpp":
        from tools.reference.nested_unet import NestedUNet
        return NestedUNet(args.classes)
    if args.model == "deeplabv3plus":
        from tools.reference.deeplabv3plus import DeepLabV3Plus
        return DeepLabV3Plus(18, args.classes, 16)
    if args.model == "lraspp":
        from torchvision.models.segmentation import lraspp_mobilenet_v3_large
        return lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=args.classes)
    if args.model in ("fcn_resnet50", "deeplabv3_resnet50"):
        from torchvision.models import segmentation
        return getattr(segmentation, args.model)(weights=None, weights_backbone=None, num_classes=args.classes,
                                                 aux_loss=True)
    return UNet(in_channels=3, num_classes=args.classes, bilinear=not args.transposed, base_c=args.base_c)


def describe(args):
    return {"unet": f"UNet base_c={args.base_c}", "unetpp": "UNet++", "deeplabv3plus": "DeepLabV3+ ResNet-18 OS16",
            "lraspp": "LR-ASPP MobileNetV3-Large", "fcn_resnet50": "FCN ResNet-50 OS8",
            "deeplabv3_resnet50": "DeepLabV3 ResNet-50 OS8"}[args.model]


def main():
    args = parse()
    load = os.getloadavg()[0]
    # The torch library alone takes hundreds of MiB; report it so that the peak can be
    # read as "library + training".
    import_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    model = build(args)
    model.train()
    x = torch.randn(args.batch, 3, args.size, args.size)
    target = torch.randint(0, args.classes, (args.batch, args.size, args.size))
    target[torch.rand(target.shape) < 0.05] = 255
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    class_weight = (1.0, 2.0) if args.classes == 2 else (1.0,) * args.classes
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)

    def step():
        # Autocast runs convolutions in bf16 and keeps BatchNorm, softmax and the loss in fp32;
        # weights and their gradients stay fp32 (the master copy SGD updates).
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.autocast_bf16):
            out = model(x)
            loss = criterion(out["out"] if isinstance(out, dict) else out, target, class_weight=class_weight,
                             ignore_index=255)
            if isinstance(out, dict) and "aux" in out:  # torchvision's references: out + 0.5 * aux
                loss = loss + 0.5 * criterion(out["aux"], target, class_weight=class_weight, ignore_index=255)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    for _ in range(args.warmup):
        step()
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)

    mean = sum(times) / len(times)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    mode = ("transposed" if args.transposed else "bilinear") if args.model == "unet" else ""
    layout = "channels_last" if args.channels_last else "NCHW"
    if args.autocast_bf16:
        layout += ", autocast bf16"
    print(f"pytorch {torch.__version__} cpu ({platform.machine()}, {args.threads} threads, {layout}) "
          f"{describe(args)} {mode} ({parameter_count(model):,} params) batch {args.batch} "
          f"3x{args.size}x{args.size}, {args.classes} classes, CE+Dice, SGD: "
          f"{args.batch / mean:.3f} img/s mean, {args.batch / min(times):.3f} img/s best "
          f"({mean:.3f} s/step mean over {args.steps} after {args.warmup} warm-up), "
          f"peak RSS {peak_mb:.0f} MiB ({import_mb:.0f} MiB after import), load {load:.2f} at start")


if __name__ == "__main__":
    main()
