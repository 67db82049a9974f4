"""Spectral normalisation of a layer's weight (Miyato et al. 2018), PyTorch's spectral_norm."""
from ..arrays import get_array_module
from ..backend import rng
from .arguments import positive_count, positive_number
from .module import Module, Parameter


class SpectralNorm(Module):
    """The layer (Linear, Conv2d or ConvTranspose2d) with its weight W divided by its largest
    singular value σ(W), estimated by power iteration:

        W as a matrix Wm (h, w): axis ``dim`` first (0; 1 for ConvTranspose2d, whose output
        channels are axis 1), the rest flattened.  In training, n_power_iterations times:
            v ← Wmᵀu / ‖Wmᵀu‖,   u ← Wm v / ‖Wm v‖          (u, v kept: one step per forward)
        σ = uᵀ Wm v,   W_sn = W / σ,   y = layer(x) with W_sn        (eval: u, v as they are)

    Backward, with G = ∂L/∂W_sn from the layer and u, v held fixed (as PyTorch does: they carry
    no gradient). ∂σ/∂Wm = u vᵀ, so
        ∂L/∂W = G/σ − (⟨G, W⟩/σ²)·u vᵀ = (G − ⟨G, W_sn⟩·u vᵀ) / σ      (as a matrix)
    — scaling W does not change W_sn, so ∂L/∂W has no component along W itself:
    ⟨∂L/∂W, W⟩ = (⟨G, W⟩ − ⟨G, W_sn⟩·uᵀWv)/σ = 0, since uᵀWv = σ.

    state_dict names are those of ``torch.nn.utils.spectral_norm``: ``weight_orig`` (W, the
    trained parameter), ``bias``, ``weight_u`` (h,) and ``weight_v`` (w,); u and v start as
    normalised N(0, 1) draws from minigan's generator.
    """

    def __init__(self, layer, n_power_iterations=1, eps=1e-12, dim=None):
        super().__init__()
        from .conv_transpose import ConvTranspose2d
        weight = getattr(layer, "weight", None)
        if not isinstance(weight, Parameter) or weight.data.ndim < 2:
            raise TypeError(f"SpectralNorm: expected a layer with a weight matrix or kernel (Linear, "
                            f"Conv2d, ConvTranspose2d), got {type(layer).__name__}")
        n_power_iterations = positive_count("SpectralNorm", "n_power_iterations", n_power_iterations)
        eps = positive_number("SpectralNorm", "eps", eps)
        if dim is None:
            dim = 1 if isinstance(layer, ConvTranspose2d) else 0
        elif isinstance(dim, bool) or not isinstance(dim, int) or not 0 <= dim < weight.data.ndim:
            raise ValueError(f"SpectralNorm: dim must be an axis of the {weight.data.ndim}-D weight "
                             f"(0 to {weight.data.ndim - 1}), got {dim!r}")
        self.dim = dim
        self.n_power_iterations, self.eps = n_power_iterations, eps
        object.__setattr__(self, "layer", layer)           # not a child: its names are ours
        if getattr(layer, "bias", None) is not None:
            self.bias = layer.bias                         # shared Parameter
        self.weight_orig = weight
        layer.weight = Parameter(weight.data.copy())       # the layer's own: W_sn each forward
        h, w = self._matrix(weight.data).shape
        gen = rng("cpu")
        self.register_buffer("weight_u", self._normalize(gen.standard_normal(h).astype(weight.data.dtype)))
        self.register_buffer("weight_v", self._normalize(gen.standard_normal(w).astype(weight.data.dtype)))

    def _normalize(self, a):
        """a / max(‖a‖, eps), computed on a's device (no read-back: a GPU need not wait)."""
        xp = get_array_module(a)
        return a / xp.maximum(xp.linalg.norm(a), a.dtype.type(self.eps))

    def _matrix(self, W):
        """(h, w): axis dim first, the others flattened."""
        xp = get_array_module(W)
        return xp.moveaxis(W, self.dim, 0).reshape(W.shape[self.dim], -1)

    def _unmatrix(self, M, shape):
        xp = get_array_module(M)
        moved = (shape[self.dim],) + tuple(s for i, s in enumerate(shape) if i != self.dim)
        return xp.moveaxis(M.reshape(moved), 0, self.dim)

    def forward(self, x):
        W = self.weight_orig.data
        Wm = self._matrix(W)
        if self.training and not self.__dict__.get("_state_held"):  # power iteration, in place
            # (mg.gradcheck holds u, v after its first forward: backward treats them as constants)
            u, v = self.weight_u, self.weight_v
            for _ in range(self.n_power_iterations):
                v[...] = self._normalize(Wm.T @ u)
                u[...] = self._normalize(Wm @ v)
        u, v = self.weight_u.copy(), self.weight_v.copy()  # the backward's constants
        sigma = u @ (Wm @ v)                               # a 0-d array of W's dtype
        inner = self.layer.weight
        inner.data = (W / sigma).astype(W.dtype, copy=False)
        inner.grad = get_array_module(W).zeros_like(inner.data)
        self._cache = (u, v, sigma, W.shape)
        return self.layer(x)

    def backward(self, grad_output, need_input_grad=True):
        u, v, sigma, shape = self._get_cache()
        self.layer.weight.requires_grad = self.weight_orig.requires_grad   # frozen W: no ∂L/∂W_sn
        dx = self.layer.backward(grad_output, need_input_grad)
        if not self.weight_orig.requires_grad:
            return dx
        G = self._matrix(self.layer.weight.grad)           # ∂L/∂W_sn as a matrix (h, w)
        W_sn = self._matrix(self.layer.weight.data)
        xp = get_array_module(G)
        dW = (G - (G * W_sn).sum() * xp.outer(u, v)) / sigma
        self.weight_orig.grad += self._unmatrix(dW, shape)
        return dx

    def train(self, mode=True):
        super().train(mode)
        self.layer.train(mode)
        return self

    def _clear_cache(self):
        super()._clear_cache()
        self.layer._clear_cache()

    def extra_repr(self):
        return f"{self.layer!r}, dim={self.dim}, n_power_iterations={self.n_power_iterations}"

    def __repr__(self):
        return f"SpectralNorm({self.extra_repr()})"
