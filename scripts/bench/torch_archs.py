"""The PyTorch architectures the bench anchors run (train_torch.py), written
once: BasicSR's EDSR and the official SwinIR (network_swinir.py, pixelshuffledirect, resi_connection
'1conv', patch_norm, no APE, drop-path 0), defaults set to our edsr-mini / swinir-mini presets.
Bench-only dependency: Debian's python3-torch."""
import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = torch.tensor([0.4488, 0.4371, 0.4040]).view(1, 3, 1, 1)

# ---- EDSR (BasicSR layout) ----
class ResidualBlockNoBN(nn.Module):
    def __init__(self, f, res_scale):
        super().__init__()
        self.conv1 = nn.Conv2d(f, f, 3, 1, 1)
        self.conv2 = nn.Conv2d(f, f, 3, 1, 1)
        self.res_scale = res_scale
    def forward(self, x):
        return x + self.conv2(F.relu(self.conv1(x))) * self.res_scale

class EDSR(nn.Module):
    def __init__(self, num_feat=16, num_block=8, res_scale=2.0, upscale=2, img_range=255.0):
        super().__init__()
        self.img_range = img_range
        self.conv_first = nn.Conv2d(3, num_feat, 3, 1, 1)
        self.body = nn.Sequential(*[ResidualBlockNoBN(num_feat, res_scale) for _ in range(num_block)])
        self.conv_after_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        # BasicSR's Upsample: one conv + pixel shuffle 3 at x3, (conv + pixel shuffle 2) per factor 2 otherwise.
        stages = [(9, 3)] if upscale == 3 else [(4, 2)] * {2: 1, 4: 2}[upscale]
        self.upsample = nn.Sequential(*[m for c, r in stages for m in (nn.Conv2d(num_feat, c * num_feat, 3, 1, 1), nn.PixelShuffle(r))])
        self.conv_last = nn.Conv2d(num_feat, 3, 3, 1, 1)
    def forward(self, x):
        mean = MEAN.to(x)
        x = (x - mean) * self.img_range
        x = self.conv_first(x)
        res = self.conv_after_body(self.body(x)) + x
        return self.conv_last(self.upsample(res)) / self.img_range + mean

# ---- SwinIR (official network_swinir.py, trimmed to what the presets use) ----
def window_partition(x, ws):
    B, H, W, C = x.shape
    x = x.view(B, H // ws, ws, W // ws, ws, C)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(-1, ws, ws, C)

def window_reverse(windows, ws, H, W):
    B = int(windows.shape[0] / (H * W / ws / ws))
    x = windows.view(B, H // ws, W // ws, ws, ws, -1)
    return x.permute(0, 1, 3, 2, 4, 5).contiguous().view(B, H, W, -1)

class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)
    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))

class WindowAttention(nn.Module):
    def __init__(self, dim, ws, heads):
        super().__init__()
        self.ws, self.heads = ws, heads
        self.scale = (dim // heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * ws - 1) * (2 * ws - 1), heads))
        coords = torch.stack(torch.meshgrid([torch.arange(ws), torch.arange(ws)], indexing='ij'))
        flat = torch.flatten(coords, 1)
        rel = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0).contiguous()
        rel[:, :, 0] += ws - 1
        rel[:, :, 1] += ws - 1
        rel[:, :, 0] *= 2 * ws - 1
        self.register_buffer('relative_position_index', rel.sum(-1))
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)
        nn.init.trunc_normal_(self.relative_position_bias_table, std=.02)
    def forward(self, x, mask=None):
        B_, N, C = x.shape
        qkv = self.qkv(x).reshape(B_, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q * self.scale) @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[self.relative_position_index.view(-1)].view(N, N, -1).permute(2, 0, 1).contiguous()
        attn = attn + bias.unsqueeze(0)
        if mask is not None:
            nW = mask.shape[0]
            attn = attn.view(B_ // nW, nW, self.heads, N, N) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, self.heads, N, N)
        attn = attn.softmax(dim=-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(B_, N, C))

class SwinTransformerBlock(nn.Module):
    def __init__(self, dim, res, heads, ws, shift, mlp_ratio):
        super().__init__()
        if min(res) <= ws:
            shift, ws = 0, min(res)
        self.ws, self.shift = ws, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, ws, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))
        self.register_buffer('attn_mask', self.calculate_mask(res) if shift > 0 else None)
    def calculate_mask(self, x_size):
        H, W = x_size
        img_mask = torch.zeros((1, H, W, 1))
        cnt = 0
        for h in (slice(0, -self.ws), slice(-self.ws, -self.shift), slice(-self.shift, None)):
            for w in (slice(0, -self.ws), slice(-self.ws, -self.shift), slice(-self.shift, None)):
                img_mask[:, h, w, :] = cnt
                cnt += 1
        mw = window_partition(img_mask, self.ws).view(-1, self.ws * self.ws)
        m = mw.unsqueeze(1) - mw.unsqueeze(2)
        return m.masked_fill(m != 0, float(-100.0)).masked_fill(m == 0, float(0.0))
    def forward(self, x, x_size):
        H, W = x_size
        B, L, C = x.shape
        shortcut = x
        x = self.norm1(x).view(B, H, W, C)
        if self.shift > 0:
            x = torch.roll(x, shifts=(-self.shift, -self.shift), dims=(1, 2))
        xw = window_partition(x, self.ws).view(-1, self.ws * self.ws, C)
        aw = self.attn(xw, mask=self.attn_mask)
        x = window_reverse(aw.view(-1, self.ws, self.ws, C), self.ws, H, W)
        if self.shift > 0:
            x = torch.roll(x, shifts=(self.shift, self.shift), dims=(1, 2))
        x = shortcut + x.view(B, H * W, C)
        return x + self.mlp(self.norm2(x))

class RSTB(nn.Module):
    def __init__(self, dim, res, depth, heads, ws, mlp_ratio):
        super().__init__()
        self.blocks = nn.ModuleList([SwinTransformerBlock(dim, res, heads, ws, 0 if i % 2 == 0 else ws // 2, mlp_ratio) for i in range(depth)])
        self.conv = nn.Conv2d(dim, dim, 3, 1, 1)
    def forward(self, x, x_size):
        y = x
        for blk in self.blocks:
            y = blk(y, x_size)
        B, L, C = y.shape
        y = self.conv(y.transpose(1, 2).view(B, C, x_size[0], x_size[1]))
        return y.flatten(2).transpose(1, 2) + x

class SwinIR(nn.Module):
    def __init__(self, res, embed_dim=24, depths=(4, 4, 4), heads=(6, 6, 6), ws=8, mlp_ratio=2.0, upscale=2, img_range=1.0):
        super().__init__()
        self.img_range = img_range
        self.conv_first = nn.Conv2d(3, embed_dim, 3, 1, 1)
        self.patch_norm = nn.LayerNorm(embed_dim)
        self.layers = nn.ModuleList([RSTB(embed_dim, res, d, h, ws, mlp_ratio) for d, h in zip(depths, heads)])
        self.norm = nn.LayerNorm(embed_dim)
        self.conv_after_body = nn.Conv2d(embed_dim, embed_dim, 3, 1, 1)
        self.upsample = nn.Sequential(nn.Conv2d(embed_dim, upscale * upscale * 3, 3, 1, 1), nn.PixelShuffle(upscale))
        self.apply(self._init_weights)
    @staticmethod
    def _init_weights(m):
        if isinstance(m, nn.Linear):
            nn.init.trunc_normal_(m.weight, std=.02)
            nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.LayerNorm):
            nn.init.constant_(m.bias, 0)
            nn.init.constant_(m.weight, 1.0)
    def forward(self, x):
        H, W = x.shape[2:]
        mean = MEAN.to(x)
        x = (x - mean) * self.img_range
        x = self.conv_first(x)
        f = self.patch_norm(x.flatten(2).transpose(1, 2))
        for layer in self.layers:
            f = layer(f, (H, W))
        f = self.norm(f)
        B, L, C = f.shape
        x = self.conv_after_body(f.transpose(1, 2).view(B, C, H, W)) + x
        return self.upsample(x) / self.img_range + mean
