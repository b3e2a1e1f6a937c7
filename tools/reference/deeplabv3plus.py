"""DeepLabV3+ (Chen et al., 2018) as in VainF/DeepLabV3Plus-Pytorch (`network/modeling.py`,
`_segm_resnet` with `DeepLabHeadV3Plus` from `network/_deeplab.py`), on the ResNets of
tools/reference/resnet.py (torchvision's, with `widths` and BasicBlock dilation). Module names,
and so state-dict keys, are VainF's (the ASPP and decoder widths, 256 there, are parameters for small fixtures): `backbone.*` (torchvision ResNet, no fc),
`classifier.project.*` (layer1 features to 48 channels), `classifier.aspp.*` (its ASPP, whose
projection drops with p = 0.1), `classifier.classifier.*` (3x3 conv on [48 + 256] channels,
BN, ReLU, 1x1 conv to the classes); the logits are upsampled bilinearly from 1/4 to the input.

    /tmp/torchenv/bin/python tools/reference/deeplabv3plus.py

prints parameter counts (deeplabv3plus_resnet50, 21 classes, output stride 16: 39,761,845) and
writes the key list of that model to Tests/NetsTests/Fixtures/deeplabv3plus_resnet50_keys.txt.
"""

import os
import sys

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models._utils import IntermediateLayerGetter

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
from tools.reference.resnet import FIXTURES, default_rates, expansion, key_lines, parameter_count, resnet  # noqa: E402


class ASPPPooling(nn.Sequential):
    def __init__(self, in_channels, out_channels):
        super().__init__(nn.AdaptiveAvgPool2d(1), nn.Conv2d(in_channels, out_channels, 1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))

    def forward(self, x):
        size = x.shape[-2:]
        return F.interpolate(super().forward(x), size=size, mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    def __init__(self, in_channels, atrous_rates, out_channels=256):
        super().__init__()
        modules = [nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels),
                                 nn.ReLU(inplace=True))]
        for rate in atrous_rates:
            modules.append(nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 3, padding=rate, dilation=rate, bias=False),
                nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True)))
        modules.append(ASPPPooling(in_channels, out_channels))
        self.convs = nn.ModuleList(modules)
        self.project = nn.Sequential(nn.Conv2d(5 * out_channels, out_channels, 1, bias=False),
                                     nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True), nn.Dropout(0.1))

    def forward(self, x):
        return self.project(torch.cat([conv(x) for conv in self.convs], dim=1))


class DeepLabHeadV3Plus(nn.Module):
    def __init__(self, in_channels, low_level_channels, num_classes, aspp_dilate, aspp_channels=256,
                 decoder_channels=256):
        super().__init__()
        self.project = nn.Sequential(nn.Conv2d(low_level_channels, 48, 1, bias=False), nn.BatchNorm2d(48),
                                     nn.ReLU(inplace=True))
        self.aspp = ASPP(in_channels, aspp_dilate, aspp_channels)
        d = decoder_channels
        self.classifier = nn.Sequential(nn.Conv2d(48 + aspp_channels, d, 3, padding=1, bias=False),
                                        nn.BatchNorm2d(d), nn.ReLU(inplace=True), nn.Conv2d(d, num_classes, 1))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def forward(self, feature):
        low = self.project(feature["low_level"])
        out = F.interpolate(self.aspp(feature["out"]), size=low.shape[2:], mode="bilinear", align_corners=False)
        return self.classifier(torch.cat([low, out], dim=1))


class DeepLabV3Plus(nn.Module):
    """VainF's `DeepLabV3(_SimpleSegmentationModel)` with the V3+ head: backbone, classifier, upsampling."""

    def __init__(self, depth, num_classes, output_stride=16, widths=(64, 128, 256, 512), aspp_channels=256,
                 decoder_channels=256):
        super().__init__()
        e = expansion(depth)
        self.backbone = IntermediateLayerGetter(resnet(depth, widths, output_stride),
                                                return_layers={"layer4": "out", "layer1": "low_level"})
        self.classifier = DeepLabHeadV3Plus(widths[3] * e, widths[0] * e, num_classes, default_rates(output_stride),
                                            aspp_channels, decoder_channels)

    def forward(self, x):
        return F.interpolate(self.classifier(self.backbone(x)), size=x.shape[-2:], mode="bilinear",
                             align_corners=False)


if __name__ == "__main__":
    torch.manual_seed(0)
    for depth in (18, 34, 50, 101):
        for os_ in (16, 8):
            print(f"deeplabv3plus_resnet{depth} 21 classes OS {os_}: {parameter_count(DeepLabV3Plus(depth, 21, os_)):,}")
    path = os.path.join(FIXTURES, "deeplabv3plus_resnet50_keys.txt")
    with open(path, "w") as f:
        f.write("\n".join(key_lines(DeepLabV3Plus(50, 21, 16))) + "\n")
    print("wrote", os.path.relpath(path, ROOT))
