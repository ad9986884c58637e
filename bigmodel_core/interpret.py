"""Why did the CNN decide? Four attribution methods from Captum 0.9, with bounded cost, then LIME and
KernelSHAP over superpixels (the second half of this file).

    attr = attribute(model, x, target=3, method="saliency")                   # (N, 1, 28, 28)
    attr, delta = attribute(model, x, 3, "integrated_gradients", baseline="blurred", n_steps=32)
    res = surrogate_attribute(model, x, 3, "kernel_shap", n_samples=200, patch=4)   # res["map"]: (28, 28)

- Saliency (Simonyan et al. 2014): |dF_target/dx|, one backward pass.
- Integrated Gradients (Sundararajan et al. 2017):
      IG_i(x) = (x_i - x'_i) * integral_0^1 dF(x' + a (x - x')) / dx_i da
  approximated with n_steps (<= 64) Gauss-Legendre points, batched by internal_batch_size.
  Completeness: sum_i IG_i = F(x) - F(x'); Captum's convergence delta is the gap left by the
  approximation, so |sum IG - (F(x) - F(x'))| == |delta|.
- Occlusion (Zeiler & Fergus 2014): slide a black 4x4 patch (stride 2) over the image and record
  how much F_target drops; 169 forward passes, 64 at a time.
- Grad-CAM (Selvaraju et al. 2017) on conv2: ReLU(sum_k mean(dF/dA_k) * A_k) over conv2's 64 maps
  (14x14), upsampled bilinearly to 28x28.
F is the target class's logit (pre-softmax score), as in the papers.

Thread safety: Captum registers forward/backward hooks on the model it explains (Grad-CAM, and
every method's requires_grad juggling of inputs), so two threads explaining one shared model at
once can see each other's hooks. Streamlit serves sessions from threads and caches one model per
process, so `attribute` holds `CAPTUM_LOCK` (a process-wide lock) for the whole call; pages need do
nothing more. One call is bounded (n_steps <= 64, fixed occlusion grid), so the lock is held briefly.
"""
from __future__ import annotations

import threading
import time

import torch
import torch.nn.functional as F
from torch import nn

from bigmodel_core.errors import UserInputError

METHODS = ("saliency", "integrated_gradients", "occlusion", "grad_cam")
BASELINES = ("black", "blurred")
MAX_STEPS = 64                 # Integrated Gradients: at most this many points on the path
INTERNAL_BATCH = 32            # ... evaluated this many at a time
OCCLUSION_PATCH = 4            # black square of 4x4 pixels
OCCLUSION_STRIDE = 2
CAPTUM_LOCK = threading.RLock()  # see the module docstring


def make_baseline(x: torch.Tensor, kind: str = "black", sigma: float = 3.0) -> torch.Tensor:
    """The reference input x' of Integrated Gradients: all black, or x blurred by a Gaussian.

    x: (N, 1, H, W). The blurred baseline keeps the rough mass of the digit but none of its edges.
    """
    if kind == "black":
        return torch.zeros_like(x)
    if kind != "blurred":
        raise UserInputError("interpretability.errors.baseline", kind=kind)
    radius = int(3 * sigma)
    r = torch.arange(-radius, radius + 1, dtype=x.dtype, device=x.device)
    g = torch.exp(-r ** 2 / (2 * sigma ** 2))
    g = g / g.sum()                                                  # (2r+1,) normalized 1-D Gaussian
    h = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="reflect"), g.view(1, 1, 1, -1))   # blur rows
    return F.conv2d(F.pad(h, (0, 0, radius, radius), mode="reflect"), g.view(1, 1, -1, 1))  # then columns


def attribute(model: nn.Module, x: torch.Tensor, target: int, method: str, *,
              baseline: str = "black", n_steps: int = 32,
              internal_batch_size: int = INTERNAL_BATCH, layer: nn.Module | None = None):
    """Attributions of `model`'s logit for class `target` to the pixels of x (N, 1, 28, 28).

    Returns a tensor shaped like x, except for "integrated_gradients", which returns
    (attributions, delta) with delta of shape (N,). Grad-CAM explains `layer` (default model.conv2)
    and is upsampled to x's height and width. Holds CAPTUM_LOCK for the whole call.
    """
    from captum.attr import IntegratedGradients, LayerAttribution, LayerGradCam, Occlusion, Saliency

    if method not in METHODS:
        raise UserInputError("interpretability.errors.method", method=method)
    if not 1 <= n_steps <= MAX_STEPS:
        raise UserInputError("interpretability.errors.n_steps", n_steps=n_steps, max_steps=MAX_STEPS)
    device = next(model.parameters()).device
    x = x.detach().to(device)
    with CAPTUM_LOCK:
        if method == "saliency":
            x = x.clone().requires_grad_(True)                       # Saliency needs d(score)/dx
            return Saliency(model).attribute(x, target=target, abs=True).detach()
        if method == "integrated_gradients":
            ig = IntegratedGradients(model)
            attr, delta = ig.attribute(x, baselines=make_baseline(x, baseline), target=target,
                                       n_steps=n_steps, method="gausslegendre",
                                       internal_batch_size=internal_batch_size,
                                       return_convergence_delta=True)
            return attr.detach(), delta.detach()
        if method == "occlusion":
            C = x.shape[1]
            return Occlusion(model).attribute(
                x, target=target, baselines=0.0, perturbations_per_eval=64,
                sliding_window_shapes=(C, OCCLUSION_PATCH, OCCLUSION_PATCH),
                strides=(C, OCCLUSION_STRIDE, OCCLUSION_STRIDE)).detach()
        cam = LayerGradCam(model, layer or model.conv2).attribute(x, target=target, relu_attributions=True)
        return LayerAttribution.interpolate(cam, tuple(x.shape[-2:]), "bilinear").detach()  # (N, 1, H, W)


@torch.no_grad()
def completeness(model: nn.Module, x: torch.Tensor, target: int, attributions: torch.Tensor,
                 delta: torch.Tensor, baseline: str = "black") -> dict[str, float]:
    """IG's completeness check for the first input: sum of attributions vs F(x) - F(x').

    Returns {"sum_attr", "f_x", "f_baseline", "difference", "delta", "gap"}, where
    gap = |sum_attr - difference| and Captum's delta = sum_attr - difference (so gap == |delta|).
    """
    device = next(model.parameters()).device
    x = x[:1].to(device)
    f_x = float(model(x)[0, target])
    f_b = float(model(make_baseline(x, baseline))[0, target])
    s = float(attributions[0].sum())
    return {"sum_attr": s, "f_x": f_x, "f_baseline": f_b, "difference": f_x - f_b,
            "delta": float(delta.reshape(-1)[0]), "gap": abs(s - (f_x - f_b))}


def all_attributions(model: nn.Module, x: torch.Tensor, target: int, *, baseline: str = "black",
                     n_steps: int = 32) -> dict[str, torch.Tensor | dict]:
    """The four maps for one digit x (1, 1, 28, 28) as (28, 28) CPU tensors, plus IG's completeness."""
    out = {}
    for method in METHODS:
        result = attribute(model, x, target, method, baseline=baseline, n_steps=n_steps)
        if method == "integrated_gradients":
            result, delta = result
            out["completeness"] = completeness(model, x, target, result, delta, baseline)
        out[method] = result[0, 0].cpu()
    return out


# ---------------------------------------------------------------------------------------------
# LIME and KernelSHAP: fit a linear model to the CNN's answers on perturbed copies of the digit
#
# Both cut the digit into superpixels (here square patches of patch x patch pixels: M features),
# draw n_samples on/off patterns z in {0, 1}^M, show the model each pattern (an "off" patch is set
# to the baseline, black) and fit g(z) = phi_0 + sum_j phi_j z_j by weighted least squares.
# - LIME (Ribeiro, Singh & Guestrin 2016): z ~ Bernoulli(1/2) per patch, weight = exp(-d^2 / w^2)
#   with d the cosine distance of the perturbed image to x, and a ridge penalty (as the lime package).
# - KernelSHAP (Lundberg & Lee 2017): |z| = k drawn with p(k) ~ (M-1) / (k (M-k)), plus the all-on and
#   all-off patterns with a huge weight; the solution then approximates the Shapley values, which
#   are additive: sum_j phi_j = F(x) - F(x'). LIME's coefficients carry no such guarantee.
# Captum 0.9's Lime / KernelShap draw the samples and weights; the surrogate below solves the weighted
# least squares in closed form (Captum's default surrogates need scikit-learn, which we do not ship).

SURROGATE_METHODS = ("lime", "kernel_shap")
PATCH_SIZES = (2, 4, 7)          # 196, 49 or 16 superpixels on a 28 x 28 digit
MIN_SAMPLES, MAX_SAMPLES = 20, 2000
LIME_KERNEL_WIDTH = 0.25         # of the exponential kernel over cosine distance (lime's image default)
LIME_RIDGE = 1.0                 # lime's Ridge(alpha=1)


def superpixel_mask(patch: int, size: int = 28) -> torch.Tensor:
    """(1, 1, size, size) long: the id of each pixel's square patch, row-major (size must divide)."""
    if patch not in PATCH_SIZES or size % patch:
        raise UserInputError("interpretability.errors.patch", patch=patch, sizes=", ".join(map(str, PATCH_SIZES)))
    per_row = size // patch
    r = torch.arange(size) // patch                                 # (size,) patch row of each pixel row
    return (r[:, None] * per_row + r[None, :]).view(1, 1, size, size)   # (1, 1, size, size)


def _weighted_least_squares(model, dataloader, construct_kwargs, **_):
    """Captum's LinearModel train_fn: minimize sum_i w_i (y_i - phi_0 - z_i . phi)^2 + ridge |phi|^2
    in closed form (float64), then store phi as the model's weights and phi_0 as its bias."""
    Z, y, w = (t.double() for t in next(iter(dataloader)))          # (S, M), (S,), (S,)
    ridge = float(construct_kwargs.get("ridge", 0.0))
    A = torch.cat([torch.ones(len(Z), 1, dtype=Z.dtype), Z], 1)     # (S, 1 + M): intercept column first
    sw = w.sqrt()[:, None]
    reg = torch.diag(torch.tensor([0.0] + [ridge] * Z.shape[1], dtype=Z.dtype))   # no penalty on phi_0
    lhs = (A * sw).T @ (A * sw) + reg                               # (1 + M, 1 + M) = A^T W A + R
    rhs = (A * sw).T @ (y[:, None] * sw)                            # (1 + M, 1) = A^T W y
    beta = torch.linalg.lstsq(lhs, rhs).solution[:, 0]              # (1 + M,)
    model._construct_model_params(weight_values=beta[1:].float().view(1, -1), bias_value=beta[:1].float())
    return {}


def surrogate_attribute(model: nn.Module, x: torch.Tensor, target: int, method: str, *,
                        n_samples: int = 300, patch: int = 4, seed: int = 0) -> dict:
    """LIME or KernelSHAP of `model`'s logit for `target` over square superpixels of x (1, 1, 28, 28).

    Returns {"map": (28, 28) tensor (each pixel carries its patch's coefficient), "coef": (M,),
    "intercept": phi_0, "n_features": M, "n_samples", "seconds"}. The black image is the baseline.
    Seeded (Captum samples from torch's global generator; we fork it), so a rerun gives the same map.
    """
    from captum._utils.models.linear_model import LinearModel
    from captum.attr import KernelShap, Lime
    from captum.attr._core.lime import get_exp_kernel_similarity_function

    if method not in SURROGATE_METHODS:
        raise UserInputError("interpretability.errors.method", method=method)
    if not MIN_SAMPLES <= int(n_samples) <= MAX_SAMPLES:
        raise UserInputError("interpretability.errors.n_samples", n=n_samples, lo=MIN_SAMPLES, hi=MAX_SAMPLES)
    device = next(model.parameters()).device
    x = x.detach()[:1].to(device)                                   # (1, 1, 28, 28)
    mask = superpixel_mask(patch, x.shape[-1]).to(device)           # (1, 1, 28, 28)
    surrogate = LinearModel(train_fn=_weighted_least_squares, ridge=LIME_RIDGE if method == "lime" else 0.0)
    if method == "lime":
        explainer = Lime(model, interpretable_model=surrogate,
                         similarity_func=get_exp_kernel_similarity_function("cosine", LIME_KERNEL_WIDTH))
    else:
        explainer = KernelShap(model)
        explainer.interpretable_model = surrogate                   # instead of sklearn's LinearRegression
    t0 = time.perf_counter()
    with CAPTUM_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        coef = explainer.attribute(x, baselines=0.0, target=target, feature_mask=mask, n_samples=int(n_samples),
                                   perturbations_per_eval=64, return_input_shape=False).detach()
        intercept = float(surrogate.linear.bias.detach()[0])
    coef = coef.reshape(-1).cpu()                                   # (M,)
    return {"map": coef[mask.view(-1).cpu()].view(x.shape[-2:]), "coef": coef, "intercept": intercept,
            "n_features": int(coef.numel()), "n_samples": int(n_samples), "seconds": time.perf_counter() - t0}


@torch.no_grad()
def additivity(model: nn.Module, x: torch.Tensor, target: int, coef: torch.Tensor) -> dict[str, float]:
    """SHAP's additivity (local accuracy) for one digit: sum_j phi_j vs F(x) - F(black)."""
    device = next(model.parameters()).device
    x = x[:1].to(device)
    f_x = float(model(x)[0, target])
    f_b = float(model(torch.zeros_like(x))[0, target])
    s = float(coef.sum())
    return {"sum_attr": s, "f_x": f_x, "f_baseline": f_b, "difference": f_x - f_b, "gap": abs(s - (f_x - f_b))}
