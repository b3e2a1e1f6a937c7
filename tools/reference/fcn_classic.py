"""The PyTorch reference for runexp's Swift `ClassicFCN` and `VGG16`: the FCN-32s/16s/8s of
Long, Shelhamer & Darrell (CVPR 2015) on torchvision's VGG16 trunk.

The trunk is torchvision's own: `torchvision.models.vgg.make_layers(cfgs["D"], batch_norm)`,
the exact `features` of `vgg16()` / `vgg16_bn()` (narrowed by `width_divisor` for fixtures),
kept under `backbone.features`, so torchvision ImageNet weights load by name.

The head follows wkentaro/pytorch-fcn's names (fc6, fc7, score_fr, score_pool4, score_pool3,
upscore, upscore2, upscore16, upscore_pool4, upscore8) in the modern form without the
paper's 100-pixel input padding:
  - fc6 is a 7x7 convolution with padding 3 (pool5 keeps its size), fc7 a 1x1 one, each
    followed by ReLU and Dropout (`dropout`, 0.5 in the paper); `fc_channels` is 4096 in the
    paper.
  - a learned upsampling by f is `ConvTranspose2d(C, C, 2f, stride=f, padding=f//2, bias=False)`
    called with `output_size=` the target's size (floor-mode pooling makes every target
    f*in + 0..f-1, which is exactly the range output_size accepts); it starts as the
    paper's bilinear kernel (`upsample_filt`).
  - a bilinear upsampling is `F.interpolate(x, size=target, mode="bilinear",
    align_corners=False)`.
  - score layers start at zero, as in the paper.
Fusion is by addition: score maps at stride 32 are upsampled x2 to pool4's size and added to
score_pool4(pool4) (16s, 8s), then x2 to pool3's size and added to score_pool3(pool3) (8s);
the result is upsampled to the input's size.

Run to print parameter counts and write the key lists used by the Swift tests:

    /tmp/torchvenv/bin/python tools/reference/fcn_classic.py
"""

import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.vgg import cfgs, make_layers


def vgg16_features(batch_norm=False, width_divisor=1):
    """torchvision's vgg16(_bn).features, every width divided by `width_divisor`."""
    cfg = [v if v == "M" else v // width_divisor for v in cfgs["D"]]
    return make_layers(cfg, batch_norm=batch_norm)


def pool_indices(features):
    return [i for i, m in enumerate(features) if isinstance(m, nn.MaxPool2d)]


class VGG16Backbone(nn.Module):
    def __init__(self, batch_norm=False, width_divisor=1):
        super().__init__()
        self.features = vgg16_features(batch_norm, width_divisor)


def upsample_filt(channels, size):
    """The paper's bilinear kernel for a channels->channels transposed convolution."""
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    og = torch.arange(size, dtype=torch.float64)
    filt = 1 - (og - center).abs() / factor
    w = torch.zeros(channels, channels, size, size, dtype=torch.float64)
    for c in range(channels):
        w[c, c] = filt[:, None] * filt[None, :]
    return w.float()


class FCN(nn.Module):
    def __init__(self, num_classes, variant="8s", upsample="learned", fc_channels=4096, dropout=0.5,
                 batch_norm=False, width_divisor=1):
        super().__init__()
        assert variant in ("32s", "16s", "8s") and upsample in ("learned", "bilinear")
        self.variant, self.upsample = variant, upsample
        self.backbone = VGG16Backbone(batch_norm, width_divisor)
        c3, c4, c5 = 256 // width_divisor, 512 // width_divisor, 512 // width_divisor
        self.fc6 = nn.Conv2d(c5, fc_channels, 7, padding=3)
        self.relu6 = nn.ReLU(inplace=True)
        self.drop6 = nn.Dropout(dropout)
        self.fc7 = nn.Conv2d(fc_channels, fc_channels, 1)
        self.relu7 = nn.ReLU(inplace=True)
        self.drop7 = nn.Dropout(dropout)
        self.score_fr = nn.Conv2d(fc_channels, num_classes, 1)
        if variant in ("16s", "8s"):
            self.score_pool4 = nn.Conv2d(c4, num_classes, 1)
        if variant == "8s":
            self.score_pool3 = nn.Conv2d(c3, num_classes, 1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d) and m.out_channels == num_classes and m.kernel_size == (1, 1):
                nn.init.zeros_(m.weight)
                nn.init.zeros_(m.bias)
        if upsample == "learned":
            def up(f):
                t = nn.ConvTranspose2d(num_classes, num_classes, 2 * f, stride=f, padding=f // 2, bias=False)
                with torch.no_grad():
                    t.weight.copy_(upsample_filt(num_classes, 2 * f))
                return t
            if variant == "32s":
                self.upscore = up(32)
            else:
                self.upscore2 = up(2)
            if variant == "16s":
                self.upscore16 = up(16)
            if variant == "8s":
                self.upscore_pool4 = up(2)
                self.upscore8 = up(8)
        pools = pool_indices(self.backbone.features)
        self.taps = {"32s": pools[4:], "16s": pools[3:], "8s": pools[2:]}[variant]

    def up(self, name, x, size):
        if self.upsample == "bilinear":
            return F.interpolate(x, size=size, mode="bilinear", align_corners=False)
        return getattr(self, name)(x, output_size=size)

    def forward(self, x):
        pools = []
        h = x
        for i, layer in enumerate(self.backbone.features):
            h = layer(h)
            if i in self.taps:
                pools.append(h)
        h = self.drop6(self.relu6(self.fc6(pools[-1])))
        h = self.drop7(self.relu7(self.fc7(h)))
        h = self.score_fr(h)
        if self.variant in ("16s", "8s"):
            pool4 = pools[-2]
            h = self.up("upscore2", h, pool4.shape[-2:]) + self.score_pool4(pool4)
        if self.variant == "8s":
            pool3 = pools[-3]
            h = self.up("upscore_pool4", h, pool3.shape[-2:]) + self.score_pool3(pool3)
        final = {"32s": "upscore", "16s": "upscore16", "8s": "upscore8"}[self.variant]
        return self.up(final, h, x.shape[-2:])


def parameter_count(model):
    """Sum of numel over model.parameters() (trainable weights; BN buffers excluded)."""
    return sum(p.numel() for p in model.parameters())


def key_lines(state_dict, prefix=""):
    """One "key shape" line per state-dict entry, in order; 0-d counters say `scalar`."""
    return [f"{prefix}{k} {','.join(str(s) for s in v.shape) or 'scalar'}" for k, v in state_dict.items()]


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    fixtures = os.path.join(root, "Tests", "NetsTests", "Fixtures")
    from torchvision.models import vgg16, vgg16_bn
    for name, builder in (("vgg16", vgg16), ("vgg16_bn", vgg16_bn)):
        tv = builder(weights=None)
        ours = vgg16_features(batch_norm=name.endswith("bn"))
        assert [k for k in ours.state_dict()] == [k for k in tv.features.state_dict()]
        print(f"torchvision {name}: features {parameter_count(tv.features):,}, "
              f"with classifier {parameter_count(tv):,}, pools at {pool_indices(tv.features)}")
        path = os.path.join(fixtures, f"{name}_features_keys.txt")
        with open(path, "w") as f:
            f.write("\n".join(key_lines(tv.features.state_dict(), "features.")) + "\n")
        print("wrote", os.path.relpath(path, root), file=sys.stderr)
    for fc in (4096, 1024, 512):
        for classes in (21, 2):
            counts = []
            for variant in ("32s", "16s", "8s"):
                for upsample in ("learned", "bilinear"):
                    counts.append(f"{variant} {upsample} {parameter_count(FCN(classes, variant, upsample, fc)):,}")
            print(f"FCN fc_channels={fc} classes={classes}: " + "; ".join(counts))
    print(f"FCN-8s vgg16_bn fc_channels=1024 classes=21 learned: "
          f"{parameter_count(FCN(21, '8s', 'learned', 1024, batch_norm=True)):,}")
    path = os.path.join(fixtures, "fcn8s_keys_fc4096_c21.txt")
    with open(path, "w") as f:
        f.write("\n".join(key_lines(FCN(21, "8s", "learned", 4096).state_dict())) + "\n")
    print("wrote", os.path.relpath(path, root), file=sys.stderr)


if __name__ == "__main__":
    main()
