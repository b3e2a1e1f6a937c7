"""The PyTorch reference for runexp's Swift `VGGUNet`: the VGG16 UNet of bubbliiiing/unet-pytorch
(`nets/unet.py`, `Unet(num_classes, backbone="vgg")`, and `nets/vgg.py`), transcribed with two
additions that leave its behaviour unchanged where the recipe runs at all:
  - `width_divisor` divides every width (the encoder's and in_filters/out_filters alike), for
    small fixtures; 1 is the recipe's model.
  - the recipe concatenates the skip map with the x2-upsampled deeper map, which needs sides
    divisible by 16; here an upsampled map one row/column short of its skip (floor-mode
    pooling of an odd side) is zero-padded at the bottom/right first, as
    `F.pad(u, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])`. At sizes divisible by 16 that
    pad is empty and the model is the recipe's.

The recipe's VGG keeps torchvision's `features` (so torchvision's vgg16 weights load into
`vgg.*`) and deletes `avgpool` and `classifier`; its forward returns the maps before each
pooling: features[:4], [4:9], [9:16], [16:23], [23:-1] (the last pooling never runs).
`unetUp` applies `UpsamplingBilinear2d(scale_factor=2)` (align_corners=True), concatenates
[skip, upsampled], then conv3x3 + ReLU twice (with biases, no BatchNorm).

Run to print parameter counts and write the key list used by the Swift tests:

    /tmp/torchvenv/bin/python tools/reference/vgg_unet.py
"""

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from tools.reference.fcn_classic import parameter_count, key_lines, vgg16_features  # noqa: E402


class VGG(nn.Module):
    """The recipe's VGG16 after `del model.avgpool, model.classifier`."""

    def __init__(self, batch_norm=False, width_divisor=1):
        super().__init__()
        self.features = vgg16_features(batch_norm, width_divisor)
        pools = [i for i, m in enumerate(self.features) if isinstance(m, nn.MaxPool2d)]
        self.bounds = [0] + pools  # feat_k = features[bounds[k-1] : pools[k-1]]

    def forward(self, x):
        feats = []
        for k in range(5):
            x = self.features[self.bounds[k]:self.bounds[k + 1]](x)
            feats.append(x)
        return feats


class unetUp(nn.Module):
    def __init__(self, in_size, out_size):
        super().__init__()
        self.conv1 = nn.Conv2d(in_size, out_size, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(out_size, out_size, kernel_size=3, padding=1)
        self.up = nn.UpsamplingBilinear2d(scale_factor=2)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, inputs1, inputs2):
        up = self.up(inputs2)
        dy, dx = inputs1.shape[2] - up.shape[2], inputs1.shape[3] - up.shape[3]
        up = F.pad(up, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        outputs = torch.cat([inputs1, up], 1)
        outputs = self.relu(self.conv1(outputs))
        outputs = self.relu(self.conv2(outputs))
        return outputs


class Unet(nn.Module):
    def __init__(self, num_classes=21, batch_norm=False, width_divisor=1):
        super().__init__()
        self.vgg = VGG(batch_norm, width_divisor)
        in_filters = [v // width_divisor for v in (192, 384, 768, 1024)]
        out_filters = [v // width_divisor for v in (64, 128, 256, 512)]
        self.up_concat4 = unetUp(in_filters[3], out_filters[3])
        self.up_concat3 = unetUp(in_filters[2], out_filters[2])
        self.up_concat2 = unetUp(in_filters[1], out_filters[1])
        self.up_concat1 = unetUp(in_filters[0], out_filters[0])
        self.final = nn.Conv2d(out_filters[0], num_classes, 1)

    def forward(self, inputs):
        feat1, feat2, feat3, feat4, feat5 = self.vgg(inputs)
        up4 = self.up_concat4(feat4, feat5)
        up3 = self.up_concat3(feat3, up4)
        up2 = self.up_concat2(feat2, up3)
        up1 = self.up_concat1(feat1, up2)
        return self.final(up1)


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    fixtures = os.path.join(root, "Tests", "NetsTests", "Fixtures")
    for classes in (21, 2):
        for bn in (False, True):
            print(f"VGG-UNet classes={classes} batch_norm={bn}: {parameter_count(Unet(classes, bn)):,} parameters")
    model = Unet(21)
    x = torch.randn(1, 3, 64, 96)
    assert model(x).shape == (1, 21, 64, 96)
    path = os.path.join(fixtures, "vgg_unet_keys_c21.txt")
    with open(path, "w") as f:
        f.write("\n".join(key_lines(model.state_dict())) + "\n")
    print("wrote", os.path.relpath(path, root), file=sys.stderr)


if __name__ == "__main__":
    main()
