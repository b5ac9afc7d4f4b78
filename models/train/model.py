"""The image tower (torchvision's ResNet with BasicBlocks), the text tower (a compact BERT), and the attention
fusion exactly as the service computes it (src/Similarity.Api/Fusion/AttentionFusion.cs)."""
import math

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.resnet import BasicBlock, ResNet


class ImageTower(ResNet):
    """torchvision's ResNet with BasicBlocks at narrower widths; fc removed, so it outputs the pooled [N, D]."""

    def __init__(self, widths, blocks):
        super().__init__(BasicBlock, blocks)
        # torchvision fixes the widths at 64..512: rebuild the stem and stages narrower, then re-initialise them
        # the way torchvision does.
        self.inplanes = widths[0]
        self.conv1 = nn.Conv2d(3, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.layer1 = self._make_layer(BasicBlock, widths[0], blocks[0])
        self.layer2 = self._make_layer(BasicBlock, widths[1], blocks[1], stride=2)
        self.layer3 = self._make_layer(BasicBlock, widths[2], blocks[2], stride=2)
        self.layer4 = self._make_layer(BasicBlock, widths[3], blocks[3], stride=2)
        self.fc = nn.Identity()
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        self.dimension = widths[3]


class BertLayer(nn.Module):
    """One post-norm transformer encoder layer, as in BERT: self-attention, add & norm, GELU FFN, add & norm."""

    def __init__(self, hidden, heads, intermediate, dropout):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.query, self.key, self.value = (nn.Linear(hidden, hidden) for _ in range(3))
        self.output = nn.Linear(hidden, hidden)
        self.attention_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.ffn_in = nn.Linear(hidden, intermediate)
        self.ffn_out = nn.Linear(intermediate, hidden)
        self.ffn_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x, additive_mask):
        n, length, hidden = x.shape

        def split(t):
            return t.view(n, length, self.heads, self.head_dim).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim) + additive_mask
        context = (self.dropout(scores.softmax(-1)) @ v).transpose(1, 2).reshape(n, length, hidden)
        x = self.attention_norm(x + self.dropout(self.output(context)))
        return self.ffn_norm(x + self.dropout(self.ffn_out(F.gelu(self.ffn_in(x)))))


class TextTower(nn.Module):
    """A compact BERT: word + position + segment embeddings, LayerNorm, N encoder layers. Takes input_ids,
    attention_mask and token_type_ids [N, L] and returns last_hidden_state [N, L, H], as a Hugging Face export."""

    def __init__(self, vocab_size, hidden, layers, heads, intermediate, max_positions, dropout=0.1):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, hidden)
        self.position_embeddings = nn.Embedding(max_positions, hidden)
        self.token_type_embeddings = nn.Embedding(2, hidden)
        self.embedding_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.dropout = nn.Dropout(dropout)
        self.layers = nn.ModuleList(BertLayer(hidden, heads, intermediate, dropout) for _ in range(layers))
        self.dimension = hidden
        for module in self.modules():  # BERT's initialisation
            if isinstance(module, (nn.Linear, nn.Embedding)):
                nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear):
                nn.init.zeros_(module.bias)

    def forward(self, input_ids, attention_mask, token_type_ids):
        positions = torch.arange(input_ids.shape[1], device=input_ids.device)
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions)[None] + self.token_type_embeddings(token_type_ids)
        x = self.dropout(self.embedding_norm(x))
        # BERT's additive mask: 0 where attended, -10000 where padded.
        additive = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        for layer in self.layers:
            x = layer(x, additive)
        return x


def mean_pool(hidden, attention_mask):
    """The service's "mean" pooling: the average of the hidden states over the attention mask."""
    mask = attention_mask[..., None].to(hidden.dtype)
    return (hidden * mask).sum(1) / mask.sum(1)


class AttentionFusion(nn.Module):
    """What the service computes, in torch: each modality projected (no bias) and L2-normalised, scored
    s = v·tanh(W p + b), a softmax over the modalities, the normalised weighted sum. Its parameters are
    fusion.safetensors' tensors: image_projection [F,Di], text_projection [F,Dt], attention_weight [A,F],
    attention_bias [A], attention_vector [A]."""

    def __init__(self, image_dim, text_dim, fused_dim, attention_dim):
        super().__init__()
        self.image_projection = nn.Parameter(torch.empty(fused_dim, image_dim))
        self.text_projection = nn.Parameter(torch.empty(fused_dim, text_dim))
        self.attention_weight = nn.Parameter(torch.empty(attention_dim, fused_dim))
        self.attention_bias = nn.Parameter(torch.zeros(attention_dim))
        # Starts at zero: equal weights (mean fusion) until the multi-view objective teaches it otherwise.
        self.attention_vector = nn.Parameter(torch.zeros(attention_dim))
        for weight in (self.image_projection, self.text_projection, self.attention_weight):
            nn.init.orthogonal_(weight)

    def project_image(self, image):
        return F.normalize(image @ self.image_projection.T, dim=-1)

    def project_text(self, text):
        return F.normalize(text @ self.text_projection.T, dim=-1)

    def score(self, projected):
        return torch.tanh(projected @ self.attention_weight.T + self.attention_bias) @ self.attention_vector

    def forward(self, image_projected, text_projected, equal_weights=False):
        """Fused vectors [N, F] and the image's weight [N] for items that have both modalities. equal_weights:
        mean fusion, as the same set with a zero attention vector computes."""
        scores = [torch.zeros(len(p)) if equal_weights else self.score(p) for p in (image_projected, text_projected)]
        weights = torch.stack(scores, dim=-1).softmax(-1)
        fused = weights[:, :1] * image_projected + weights[:, 1:] * text_projected
        return F.normalize(fused, dim=-1), weights[:, 0]


class ClipModel(nn.Module):
    def __init__(self, spec, vocab_size):
        super().__init__()
        self.spec = spec
        self.image = ImageTower(spec["image_widths"], spec["image_blocks"])
        self.text = TextTower(vocab_size, spec["text_hidden"], spec["text_layers"], spec["text_heads"],
                              spec["text_intermediate"], spec["max_sequence_length"])
        self.fusion = AttentionFusion(self.image.dimension, self.text.dimension, spec["fused_dim"], spec["attention_dim"])
        # CLIP's learnable temperature, as log(1/τ), starting at τ = 0.07.
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def encode_image(self, pixels):
        return self.image(pixels)

    def encode_text(self, ids, mask):
        return mean_pool(self.text(ids, mask, torch.zeros_like(ids)), mask)
