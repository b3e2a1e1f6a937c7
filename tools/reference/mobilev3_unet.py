"""The DRIVE recipe's MobileNetV3 UNet, WZMIAOMIAO's `MobileV3Unet`
(pytorch_segmentation/unet/src/mobilenet_unet.py), on torchvision's mobilenet_v3_large and the
recipe's own `Up` and `OutConv` (tools/reference/unet.py); returns the logits tensor instead of
{"out": logits}. `width_mult` (torchvision's `_width_mult`) narrows it for fixtures.

    /tmp/torchenv/bin/python tools/reference/mobilev3_unet.py

prints the parameter count (2 classes: 3,454,146) and writes the key list to
Tests/NetsTests/Fixtures/mobilev3_unet_keys_c2.txt.
"""

import os
import sys

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models._utils import IntermediateLayerGetter
from torchvision.models.mobilenetv3 import MobileNetV3, _mobilenet_v3_conf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
from tools.reference.resnet import FIXTURES, key_lines, parameter_count  # noqa: E402
from tools.reference.unet import OutConv, Up  # noqa: E402

STAGES = [1, 3, 6, 12, 15]


class MobileV3Unet(nn.Module):
    def __init__(self, num_classes, width_mult=1.0):
        super().__init__()
        setting, last_channel = _mobilenet_v3_conf("mobilenet_v3_large", width_mult=width_mult)
        features = MobileNetV3(setting, last_channel).features
        c = [features[i].out_channels for i in STAGES]
        self.backbone = IntermediateLayerGetter(features, return_layers={str(j): f"stage{i}" for i, j in enumerate(STAGES)})
        self.up1 = Up(c[4] + c[3], c[3])
        self.up2 = Up(c[3] + c[2], c[2])
        self.up3 = Up(c[2] + c[1], c[1])
        self.up4 = Up(c[1] + c[0], c[0])
        self.conv = OutConv(c[0], num_classes=num_classes)

    def forward(self, x):
        f = self.backbone(x)
        y = self.up1(f["stage4"], f["stage3"])
        y = self.up2(y, f["stage2"])
        y = self.up3(y, f["stage1"])
        y = self.up4(y, f["stage0"])
        return F.interpolate(self.conv(y), size=x.shape[-2:], mode="bilinear", align_corners=False)


if __name__ == "__main__":
    torch.manual_seed(0)
    model = MobileV3Unet(2)
    print(f"MobileV3Unet 2 classes: {parameter_count(model):,} parameters")
    path = os.path.join(FIXTURES, "mobilev3_unet_keys_c2.txt")
    with open(path, "w") as f:
        f.write("\n".join(key_lines(model)) + "\n")
    print("wrote", os.path.relpath(path, ROOT))
