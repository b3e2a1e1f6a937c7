"""Reference ResNets and torchvision's FCN / DeepLabV3 for runexp's Swift models.

    /tmp/torchvenv/bin/python tools/reference/resnet.py

prints parameter counts and rewrites the state-dict key lists in Tests/NetsTests/Fixtures/
(`resnet18_keys.txt`, `resnet50_keys.txt`, `fcn_resnet50_aux_keys.txt`,
`deeplabv3_resnet50_aux_keys.txt`, `fcn_resnet18_aux_keys.txt`, `deeplabv3_resnet18_aux_keys.txt`),
one `key shape` line per entry as in the UNet key lists (shape comma-joined, `scalar` for the
0-d `num_batches_tracked` counters). Models are built with random weights: nothing is downloaded.

Two extensions of torchvision, both keeping its module names (so state-dict keys) unchanged:

- `widths`: the planes of layer1..layer4 (torchvision's are 64, 128, 256, 512; the stem has
  widths[0] channels). Narrow widths keep the PyTorch fixtures small.
- Dilation in BasicBlock (resnet18/34), which torchvision refuses ("Dilation > 1 not supported
  in BasicBlock"). Both 3x3 convolutions of the block use the block's dilation with
  padding = dilation, as torchvision's `conv3x3` does for the Bottleneck's 3x3 and as
  Dilated Residual Networks (Yu et al., 2017) and segmentation_models_pytorch do; the first
  block of a dilated stage keeps the previous dilation, as torchvision's `_make_layer` does for
  Bottlenecks.

For resnet50/101 with the standard widths, `fcn` and `deeplabv3` here equal
`torchvision.models.segmentation.fcn_resnet50(weights=None, weights_backbone=None, ...)` and
friends key for key and shape for shape (checked in main()).
"""

import os
import sys

import torch
import torch.nn as nn
from torchvision.models import resnet as tv_resnet
from torchvision.models import segmentation as tv_seg
from torchvision.models._utils import IntermediateLayerGetter
from torchvision.models.segmentation.deeplabv3 import ASPP, DeepLabV3
from torchvision.models.segmentation.fcn import FCN, FCNHead

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURES = os.path.join(ROOT, "Tests", "NetsTests", "Fixtures")

LAYERS = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3]}
STRIDE_TO_DILATION = {32: [False, False, False], 16: [False, False, True], 8: [False, True, True]}


class DilatedBasicBlock(tv_resnet.BasicBlock):
    """torchvision's BasicBlock with dilation in both 3x3 convolutions (same module names)."""

    def __init__(self, inplanes, planes, stride=1, downsample=None, groups=1, base_width=64, dilation=1,
                 norm_layer=None):
        super().__init__(inplanes, planes, stride, downsample, groups, base_width, 1, norm_layer)
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride=stride, padding=dilation, dilation=dilation, bias=False)
        self.conv2 = nn.Conv2d(planes, planes, 3, padding=dilation, dilation=dilation, bias=False)


class ResNet(tv_resnet.ResNet):
    """torchvision's ResNet with the planes of each stage as a parameter (`widths`)."""

    def __init__(self, block, layers, widths=(64, 128, 256, 512), num_classes=1000,
                 replace_stride_with_dilation=None, in_channels=3):
        nn.Module.__init__(self)
        self._norm_layer = nn.BatchNorm2d
        self.inplanes = widths[0]
        self.dilation = 1
        replace_stride_with_dilation = replace_stride_with_dilation or [False, False, False]
        self.groups = 1
        self.base_width = 64
        self.conv1 = nn.Conv2d(in_channels, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, widths[0], layers[0])
        self.layer2 = self._make_layer(block, widths[1], layers[1], stride=2, dilate=replace_stride_with_dilation[0])
        self.layer3 = self._make_layer(block, widths[2], layers[2], stride=2, dilate=replace_stride_with_dilation[1])
        self.layer4 = self._make_layer(block, widths[3], layers[3], stride=2, dilate=replace_stride_with_dilation[2])
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(widths[3] * block.expansion, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


def resnet(depth, widths=(64, 128, 256, 512), output_stride=32, num_classes=1000, in_channels=3):
    block = tv_resnet.Bottleneck if depth >= 50 else DilatedBasicBlock
    return ResNet(block, LAYERS[depth], widths, num_classes, STRIDE_TO_DILATION[output_stride], in_channels)


def expansion(depth):
    return 4 if depth >= 50 else 1


def backbone_for_segmentation(depth, widths, output_stride, aux):
    return_layers = {"layer4": "out"}
    if aux:
        return_layers["layer3"] = "aux"
    return IntermediateLayerGetter(resnet(depth, widths, output_stride), return_layers=return_layers)


def fcn(depth, num_classes, aux, output_stride=8, widths=(64, 128, 256, 512)):
    """torchvision's `_fcn_resnet`, with FCNHead's input widths following the backbone."""
    e = expansion(depth)
    backbone = backbone_for_segmentation(depth, widths, output_stride, aux)
    aux_classifier = FCNHead(widths[2] * e, num_classes) if aux else None
    return FCN(backbone, FCNHead(widths[3] * e, num_classes), aux_classifier)


def deeplab_head(in_channels, num_classes, atrous_rates, aspp_channels=256):
    """torchvision's DeepLabHead, with the ASPP width as a parameter (256 there)."""
    c = aspp_channels
    return nn.Sequential(
        ASPP(in_channels, atrous_rates, out_channels=c),
        nn.Conv2d(c, c, 3, padding=1, bias=False),
        nn.BatchNorm2d(c),
        nn.ReLU(),
        nn.Conv2d(c, num_classes, 1),
    )


def default_rates(output_stride):
    """12/24/36 at output stride 8 (torchvision, DeepLabV3 paper), halved at 16: rate x stride = 96, 192, 288."""
    return [96 // output_stride, 192 // output_stride, 288 // output_stride]


def deeplabv3(depth, num_classes, aux, output_stride=8, widths=(64, 128, 256, 512), atrous_rates=None,
              aspp_channels=256):
    e = expansion(depth)
    backbone = backbone_for_segmentation(depth, widths, output_stride, aux)
    aux_classifier = FCNHead(widths[2] * e, num_classes) if aux else None
    rates = atrous_rates or default_rates(output_stride)
    return DeepLabV3(backbone, deeplab_head(widths[3] * e, num_classes, rates, aspp_channels), aux_classifier)


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


def key_lines(model):
    return [f"{k} {','.join(str(s) for s in v.shape) or 'scalar'}" for k, v in model.state_dict().items()]


def same_as_torchvision(ours, theirs):
    a, b = ours.state_dict(), theirs.state_dict()
    return list(a) == list(b) and all(a[k].shape == b[k].shape for k in a)


def main():
    for depth in (18, 34, 50, 101, 152):
        print(f"resnet{depth}: {parameter_count(resnet(depth)):,} parameters with fc (1000 classes), "
              f"{parameter_count(backbone_for_segmentation(depth, (64, 128, 256, 512), 8, False)):,} without")
    for depth in (18, 34, 50, 101):
        for aux in (False, True):
            print(f"fcn_resnet{depth} 21 classes aux={aux}: {parameter_count(fcn(depth, 21, aux)):,}; "
                  f"deeplabv3_resnet{depth}: {parameter_count(deeplabv3(depth, 21, aux)):,}")
    checks = [
        (resnet(18), tv_resnet.resnet18()), (resnet(50), tv_resnet.resnet50()),
        (fcn(50, 21, True), tv_seg.fcn_resnet50(weights=None, weights_backbone=None, num_classes=21, aux_loss=True)),
        (fcn(101, 21, False), tv_seg.fcn_resnet101(weights=None, weights_backbone=None, num_classes=21)),
        (deeplabv3(50, 21, True),
         tv_seg.deeplabv3_resnet50(weights=None, weights_backbone=None, num_classes=21, aux_loss=True)),
    ]
    for ours, theirs in checks:
        assert same_as_torchvision(ours, theirs), type(theirs).__name__
    print("keys and shapes equal torchvision's resnet18, resnet50, fcn_resnet50/101, deeplabv3_resnet50")
    for name, model in [("resnet18_keys", resnet(18)), ("resnet50_keys", resnet(50)),
                        ("fcn_resnet50_aux_keys", fcn(50, 21, True)),
                        ("deeplabv3_resnet50_aux_keys", deeplabv3(50, 21, True)),
                        ("fcn_resnet18_aux_keys", fcn(18, 21, True)),
                        ("deeplabv3_resnet18_aux_keys", deeplabv3(18, 21, True))]:
        path = os.path.join(FIXTURES, name + ".txt")
        with open(path, "w") as f:
            f.write("\n".join(key_lines(model)) + "\n")
        print("wrote", os.path.relpath(path, ROOT), f"({len(model.state_dict())} entries)", file=sys.stderr)


if __name__ == "__main__":
    torch.manual_seed(0)
    main()
