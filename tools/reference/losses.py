"""The training criterion of the reference UNet recipe (WZMIAOMIAO's
pytorch_segmentation/unet train_utils): weighted cross-entropy plus multiclass Dice loss,
both skipping the ignore label.

The Dice part follows that recipe's semantics, written here without its Python loops:
softmax over classes; the target is one-hot encoded (ignored pixels take no part);
for every image n and class c, over the non-ignored pixels,
    dice[n, c] = (2 * sum(p * t) + eps) / (sum(p) + sum(t) + eps),   eps = 1e-6
(the recipe's `sets_sum == 0` special case cannot happen: softmax probabilities are > 0);
the mean over images, then over classes, and the loss is 1 - that mean.
"""

import torch
import torch.nn.functional as F


def dice_loss(logits, target, ignore_index=255, epsilon=1e-6):
    """1 - mean over classes of (mean over images of the soft Dice coefficient)."""
    num_classes = logits.shape[1]
    probs = F.softmax(logits, dim=1)
    keep = target != ignore_index                                       # N, H, W
    onehot = F.one_hot(torch.where(keep, target, 0), num_classes)       # N, H, W, C
    onehot = onehot.permute(0, 3, 1, 2).to(probs.dtype)                 # N, C, H, W
    mask = keep.unsqueeze(1).to(probs.dtype)
    p = probs * mask
    inter = (p * onehot).sum(dim=(2, 3))                                # N, C
    sets = p.sum(dim=(2, 3)) + (onehot * mask).sum(dim=(2, 3))
    dice = (2 * inter + epsilon) / (sets + epsilon)
    return 1 - dice.mean()


def criterion(logits, target, class_weight=(1.0, 2.0), ignore_index=255, dice=True):
    """The recipe's loss: cross_entropy(weight=class_weight, ignore_index) + Dice loss."""
    weight = torch.tensor(class_weight, dtype=logits.dtype)
    loss = F.cross_entropy(logits, target, weight=weight, ignore_index=ignore_index)
    if dice:
        loss = loss + dice_loss(logits, target, ignore_index)
    return loss
