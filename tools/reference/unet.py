"""The PyTorch reference UNet that runexp's Swift `UNet` mirrors key for key.

This follows the widely used UNet of WZMIAOMIAO/deep-learning-for-image-processing
(pytorch_segmentation/unet/src/unet.py): BatchNorm after every 3x3 convolution (which
therefore has no bias), bilinear upsampling with align_corners=True or a 2x2 transposed
convolution, zero padding of the upsampled map to the skip connection's size, and the
skip tensor first in the concatenation. The only deliberate difference: `forward`
returns the logits tensor itself, where upstream wraps it as {"out": logits}.

The module names below are the state-dict keys the Swift model must produce
(`in_conv.0.weight`, `down1.1.0.weight`, `up1.up.weight`, `out_conv.0.bias`, ...), so
keep them exactly as they are. Run this file to print parameter counts and write the
ordered key lists used by the Swift tests:

    /tmp/torchvenv/bin/python tools/reference/unet.py
"""

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class DoubleConv(nn.Sequential):
    """(3x3 conv without bias, BatchNorm, ReLU) twice; the first conv maps to `mid`."""

    def __init__(self, in_channels, out_channels, mid_channels=None):
        mid = out_channels if mid_channels is None else mid_channels
        super().__init__(
            nn.Conv2d(in_channels, mid, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(mid),
            nn.ReLU(inplace=True),
            nn.Conv2d(mid, out_channels, kernel_size=3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class Down(nn.Sequential):
    """2x2 max pooling (stride 2, floor) followed by a DoubleConv."""

    def __init__(self, in_channels, out_channels):
        super().__init__(nn.MaxPool2d(2, stride=2), DoubleConv(in_channels, out_channels))


class Up(nn.Module):
    """Upsample the deeper map 2x, zero-pad it to the skip map's size, concatenate
    [skip, upsampled] on channels, then a DoubleConv.

    Bilinear: `up` has no parameters, the concatenation has `in_channels` channels
    (both halves in_channels // 2) and the DoubleConv's middle width is in_channels // 2.
    Transposed: `up` is a 2x2 stride-2 ConvTranspose2d (with bias) halving the channels.
    """

    def __init__(self, in_channels, out_channels, bilinear=True):
        super().__init__()
        if bilinear:
            self.up = nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True)
            self.conv = DoubleConv(in_channels, out_channels, in_channels // 2)
        else:
            self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
            self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x1, x2):
        x1 = self.up(x1)
        diff_y = x2.size(2) - x1.size(2)
        diff_x = x2.size(3) - x1.size(3)
        # F.pad order is (left, right, top, bottom); an odd difference puts the extra
        # row/column at the right/bottom.
        x1 = F.pad(x1, [diff_x // 2, diff_x - diff_x // 2, diff_y // 2, diff_y - diff_y // 2])
        return self.conv(torch.cat([x2, x1], dim=1))


class OutConv(nn.Sequential):
    """1x1 convolution (with bias) to the class logits."""

    def __init__(self, in_channels, num_classes):
        super().__init__(nn.Conv2d(in_channels, num_classes, kernel_size=1))


class UNet(nn.Module):
    """Four poolings deep; `factor` halves the bottleneck and decoder widths in bilinear
    mode so that the concatenations still have the Up block's `in_channels`."""

    def __init__(self, in_channels=1, num_classes=2, bilinear=True, base_c=64):
        super().__init__()
        self.in_channels = in_channels
        self.num_classes = num_classes
        self.bilinear = bilinear
        c = base_c
        factor = 2 if bilinear else 1
        self.in_conv = DoubleConv(in_channels, c)
        self.down1 = Down(c, 2 * c)
        self.down2 = Down(2 * c, 4 * c)
        self.down3 = Down(4 * c, 8 * c)
        self.down4 = Down(8 * c, 16 * c // factor)
        self.up1 = Up(16 * c, 8 * c // factor, bilinear)
        self.up2 = Up(8 * c, 4 * c // factor, bilinear)
        self.up3 = Up(4 * c, 2 * c // factor, bilinear)
        self.up4 = Up(2 * c, c, bilinear)
        self.out_conv = OutConv(c, num_classes)

    def forward(self, x):
        x1 = self.in_conv(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        x5 = self.down4(x4)
        x = self.up1(x5, x4)
        x = self.up2(x, x3)
        x = self.up3(x, x2)
        x = self.up4(x, x1)
        return self.out_conv(x)


def parameter_count(model):
    """Sum of numel over model.parameters() (trainable weights; BN buffers excluded)."""
    return sum(p.numel() for p in model.parameters())


def key_lines(model):
    """One "key shape" line per state-dict entry, in state-dict order: the shape is
    comma-joined, and the 0-d num_batches_tracked counters say `scalar`."""
    return [f"{k} {','.join(str(s) for s in v.shape) or 'scalar'}" for k, v in model.state_dict().items()]


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    fixtures = os.path.join(root, "Tests", "NetsTests", "Fixtures")
    for base_c in (32, 64):
        for bilinear in (True, False):
            model = UNet(in_channels=3, num_classes=2, bilinear=bilinear, base_c=base_c)
            mode = "bilinear" if bilinear else "transposed"
            print(f"UNet in_channels=3 num_classes=2 base_c={base_c} {mode}: "
                  f"{parameter_count(model):,} parameters, {len(model.state_dict())} state-dict entries")
    for bilinear in (True, False):
        mode = "bilinear" if bilinear else "transposed"
        path = os.path.join(fixtures, f"unet_keys_c64_{mode}.txt")
        with open(path, "w") as f:
            f.write("\n".join(key_lines(UNet(3, 2, bilinear, 64))) + "\n")
        print("wrote", os.path.relpath(path, root), file=sys.stderr)


if __name__ == "__main__":
    main()
