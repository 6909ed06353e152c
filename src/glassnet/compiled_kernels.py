"""The compiled engine's kernels (learning floor; numba): whole runs of training steps of a Dense stack in machine code.

Imported only by :mod:`glassnet.compiled`, and only when numba is installed (the ``fast`` extra). Every
function here is the numpy path's arithmetic written as loops, in the same order, so the two engines agree
to rounding; the matrix products go to numpy's own BLAS (cblas_sgemm/dgemm, passed in as ``blas``), or to numba's
``np.dot`` where numpy's BLAS was not found.

Layout: all weights in one flat array and all biases in another, layer after layer (the network's own
flat arrays, written in place); ``sizes`` holds the widths, input first. Work arrays are flat too: layer
l's weighted sums, activations and deltas are the first ``n_rows * sizes[l+1]`` numbers of its slice.
Codes (activation, cost, optimizer) are the small integers below; :mod:`glassnet.compiled` maps names.
"""
from __future__ import annotations

import math

import numba
import numpy as np

IDENTITY, SIGMOID, TANH, RELU, LEAKY_RELU, SOFTPLUS, SOFTMAX = range(7)
QUADRATIC, BINARY_CROSS_ENTROPY, CROSS_ENTROPY = range(3)
SGD, MOMENTUM, NESTEROV, ADAM, ADAMW = range(5)
# what a run of steps ended with: every batch done, or stopped before the update of a batch whose loss or
# gradients need the numpy path's checks (it re-runs that batch and raises or goes on, exactly as always)
FINISHED, NEEDS_CHECK = 0, 1
# predictions of at most this many rows go row by row (see predict)
ROW_BY_ROW = 3

jit = numba.njit(cache=True, nogil=True)
ROW_MAJOR, NO_TRANSPOSE, TRANSPOSE = 101, 111, 112  # CBLAS's codes


@jit
def product(blas, a, b, c, alpha, beta, transpose_a, transpose_b):
    """c := alpha op(a) op(b) + beta c, row-major, op the transpose where asked. ``blas``: numpy's own
    cblas_?gemm (a ctypes function, see :func:`glassnet.blas.gemm_function`), or None: numba's ``np.dot``
    (scipy's BLAS), which takes alpha = 1 and beta = 0 only."""
    if blas is None:
        dot(a, b, c, transpose_a, transpose_b)
        return
    if c.shape[0] == 1 and alpha == 1.0 and beta == 0.0:  # one row: np.dot's gemv (gemm's m = 1 path is 2x slower)
        dot(a, b, c, transpose_a, transpose_b)
        return
    k = a.shape[0] if transpose_a else a.shape[1]
    blas(ROW_MAJOR, TRANSPOSE if transpose_a else NO_TRANSPOSE, TRANSPOSE if transpose_b else NO_TRANSPOSE,
         c.shape[0], c.shape[1], k, alpha, a.ctypes.data, a.shape[1], b.ctypes.data, b.shape[1], beta,
         c.ctypes.data, c.shape[1])


@jit
def dot(a, b, c, transpose_a, transpose_b):
    """c := op(a) op(b) through numba's ``np.dot``."""
    if transpose_a:
        np.dot(a.T, b, c)
    elif transpose_b:
        np.dot(a, b.T, c)
    else:
        np.dot(a, b, c)


@jit
def adds_in_place(blas):
    """Whether ``blas`` can add a product into an array (C := alpha A B + C): numpy's gemm can, np.dot not."""
    if blas is None:
        return False
    return True


@jit
def activate(code, alpha, a, z):
    """z = f(a); a, z: (n_rows, n_units). One loop per function (the test sits outside, so loops vectorize)."""
    if code == SOFTMAX:  # e^(a - max) / Σ e^(a - max), row by row
        for i in range(a.shape[0]):
            top = a[i, 0]
            for j in range(1, a.shape[1]):
                top = max(top, a[i, j])
            total = 0.0
            for j in range(a.shape[1]):
                z[i, j] = math.exp(a[i, j] - top)
                total += z[i, j]
            for j in range(a.shape[1]):
                z[i, j] /= total
        return
    af, zf = a.reshape(a.size), z.reshape(z.size)
    if code == IDENTITY:
        zf[:] = af
    elif code == SIGMOID:  # e = e^-|a|; σ(-|a|) = e / (1 + e); σ(a) = 1 − σ(-|a|) for a ≥ 0
        for k in range(af.size):
            e = math.exp(-abs(af[k]))
            s = e / (e + 1.0)
            zf[k] = 1.0 - s if af[k] >= 0 else s
    elif code == TANH:
        for k in range(af.size):
            zf[k] = math.tanh(af[k])
    elif code == RELU:
        for k in range(af.size):
            zf[k] = max(af[k], 0.0)
    elif code == LEAKY_RELU:
        for k in range(af.size):
            zf[k] = af[k] if af[k] > 0 else alpha * af[k]
    else:  # SOFTPLUS: max(a, 0) + log1p(e^-|a|)
        for k in range(af.size):
            zf[k] = max(af[k], 0.0) + math.log1p(math.exp(-abs(af[k])))


@jit
def times_derivative(code, alpha, a, z, g):
    """g := dC/da from g = dC/dz, in place: g ⊙ f'(a) (softmax: z ⊙ (g − Σ_k g_k z_k))."""
    if code == SOFTMAX:
        for i in range(a.shape[0]):
            inner = 0.0
            for j in range(a.shape[1]):
                inner += g[i, j] * z[i, j]
            for j in range(a.shape[1]):
                g[i, j] = z[i, j] * (g[i, j] - inner)
        return
    af, zf, gf = a.reshape(a.size), z.reshape(z.size), g.reshape(g.size)
    if code == SIGMOID:  # f' = z (1 − z)
        for k in range(gf.size):
            gf[k] *= (1.0 - zf[k]) * zf[k]
    elif code == TANH:  # f' = 1 − z²
        for k in range(gf.size):
            gf[k] *= 1.0 - zf[k] * zf[k]
    elif code == RELU:  # f' = [a > 0]
        for k in range(gf.size):
            gf[k] = gf[k] if af[k] > 0 else 0.0
    elif code == LEAKY_RELU:  # f' = 1 where a > 0 else alpha
        for k in range(gf.size):
            gf[k] = gf[k] if af[k] > 0 else gf[k] * alpha
    elif code == SOFTPLUS:  # f' = σ(a)
        for k in range(gf.size):
            e = math.exp(-abs(af[k]))
            s = e / (e + 1.0)
            gf[k] *= 1.0 - s if af[k] >= 0 else s


@jit
def output_delta(cost, fused, a, z, y, delta, tiny):
    """dC/da_L (fused pairs) or dC/dŷ (the rest) into ``delta``; returns the batch's mean cost (without L2).

    Matched pairs (identity + quadratic, sigmoid + BCE, softmax + CE) use the fused forms from ``a``:
    delta = (ŷ Σ_k y_k − y)/n for softmax + CE and (ŷ − y)/n for the other two."""
    n_rows, n_units = a.shape
    total = 0.0
    for i in range(n_rows):
        row_y, top = 0.0, a[i, 0]
        for j in range(n_units):
            row_y += y[i, j]
            top = max(top, a[i, j])
        if fused and cost == CROSS_ENTROPY:  # Σ_k y_k (LSE(a) − a_k)
            sum_exp = 0.0
            for j in range(n_units):
                sum_exp += math.exp(a[i, j] - top)
            lse = top + math.log(sum_exp)
            for j in range(n_units):
                total += y[i, j] * (lse - a[i, j])
        for j in range(n_units):
            p, t = z[i, j], y[i, j]
            if fused:
                if cost == BINARY_CROSS_ENTROPY:  # softplus(a) − y a
                    v = a[i, j]
                    total += max(v, 0.0) + math.log1p(math.exp(-abs(v))) - t * v
                elif cost == QUADRATIC:
                    total += 0.5 * (a[i, j] - t) * (a[i, j] - t)
                delta[i, j] = (p * row_y - t if cost == CROSS_ENTROPY else p - t) * (1.0 / n_rows)
            elif cost == QUADRATIC:  # ½ (ŷ − y)²;  dC/dŷ = (ŷ − y)/n
                total += 0.5 * (p - t) * (p - t)
                delta[i, j] = (p - t) / n_rows
            elif cost == BINARY_CROSS_ENTROPY:  # −[y log ŷ + (1 − y) log(1 − ŷ)];  (ŷ − y)/(ŷ(1 − ŷ))/n
                total -= t * math.log(max(p, tiny)) + (1.0 - t) * math.log(max(1.0 - p, tiny))
                delta[i, j] = (p - t) / max(p * (1.0 - p), tiny) / n_rows
            else:  # CROSS_ENTROPY: −y log ŷ;  −y/ŷ/n
                total -= t * math.log(max(p, tiny))
                delta[i, j] = -t / max(p, tiny) / n_rows
    return total / n_rows


@jit
def n_correct(z, labels):
    """How many rows the outputs decide as their label (argmax, or ŷ > 0.5 for a single unit)."""
    n_rows, n_units = z.shape
    count = 0
    for i in range(n_rows):
        if n_units == 1:
            decided = 1 if z[i, 0] > 0.5 else 0
        else:
            decided = 0
            for j in range(1, n_units):
                if z[i, j] > z[i, decided]:
                    decided = j
        count += decided == labels[i]
    return count


@numba.njit(cache=True, nogil=True, fastmath=True)
def squared(values):
    """Σ values² in float64 (only the size test of the gradients reads it: any summation order will do)."""
    flat = values.reshape(values.size)
    total = 0.0
    for k in range(flat.size):
        total += np.float64(flat[k]) * flat[k]
    return total


@jit
def gather(x, y, labels, order, start, xb, yb, lb):
    """Copy the batch's rows (order[start:start + n]) into the kept arrays: sequential writes, no allocation."""
    for r in range(xb.shape[0]):
        row = order[start + r]
        xb[r, :] = x[row, :]
        yb[r, :] = y[row, :]
        if labels.shape[0] > 0:  # none for regression
            lb[r] = labels[row]


@jit
def layer_views(flat, sizes, n_rows, layer):
    """Layer ``layer``'s (n_rows, width) slice of a flat work array laid out layer after layer."""
    at = 0
    for l in range(layer):
        at += sizes[l + 1]
    at *= flat.shape[0] // _total_width(sizes)
    return flat[at:at + n_rows * sizes[layer + 1]].reshape((n_rows, sizes[layer + 1]))


@jit
def _total_width(sizes):
    total = 0
    for l in range(1, sizes.shape[0]):
        total += sizes[l]
    return total


@jit
def forward(blas, xb, weights, biases, sizes, codes, alphas, A, Z, ahead, use_ahead):
    """Every layer's a = x @ W + b and z = f(a) into the work arrays; returns the output z. ``use_ahead``:
    the first layer's x @ W of this (one-row) batch is already in ``ahead``, formed while the previous step
    updated W_1 (see :func:`sgd_update_in_place`)."""
    n_rows, w_at, b_at = xb.shape[0], 0, 0
    x = xb
    for l in range(sizes.shape[0] - 1):
        n_in, n_out = sizes[l], sizes[l + 1]
        W = weights[w_at:w_at + n_in * n_out].reshape((n_in, n_out))
        a, z = layer_views(A, sizes, n_rows, l), layer_views(Z, sizes, n_rows, l)
        if l == 0 and use_ahead:
            for j in range(n_out):
                a[0, j] = ahead[j]
        else:
            product(blas, x, W, a, 1.0, 0.0, False, False)
        for i in range(n_rows):
            for j in range(n_out):
                a[i, j] += biases[b_at + j]
        activate(codes[l], alphas[l], a, z)
        x = z
        w_at += n_in * n_out
        b_at += n_out
    return x


@jit
def predict(blas, x, weights, biases, sizes, codes, alphas, A, Z, out):
    """ŷ of the rows of ``x: (n_rows, n_in)`` (C-contiguous) into ``out: (n_rows, n_out)`` through
    :func:`forward`; up to ROW_BY_ROW rows go one at a time (gemv: OpenBLAS's gemm took 55 µs for a 2 x 784
    by 784 x 256 float32 product, its gemv 17 µs a row). Returns False, having computed nothing, when an
    entry of x is NaN or infinite (the caller's own check then says which); True otherwise."""
    flat = x.reshape(x.size)
    for k in range(flat.size):
        if not math.isfinite(flat[k]):
            return False
    one_by_one = x.shape[0] <= ROW_BY_ROW
    for first in range(0, x.shape[0], 1 if one_by_one else x.shape[0]):
        rows = x[first:first + 1] if one_by_one else x
        z = forward(blas, rows, weights, biases, sizes, codes, alphas, A, Z, out[0, :0], False)
        for i in range(z.shape[0]):
            for j in range(out.shape[1]):
                out[first + i, j] = z[i, j]
    return True


@jit
def sum_rows(delta, out):
    """out := Σ over the rows of delta (dC/db), read row by row (sequential reads of delta)."""
    out[:] = 0.0
    for i in range(delta.shape[0]):
        for j in range(delta.shape[1]):
            out[j] += delta[i, j]


@jit
def backward(blas, xb, weights, sizes, codes, alphas, A, Z, D, grad_w, grad_b, l2):
    """From the output delta (already in D's last layer) down: grad_W = x.T @ delta, grad_b = Σ delta,
    dC/dx = delta @ W.T times f' of the layer below. Returns Σ over layers of the cheap bound ‖x‖² ‖delta‖²
    where it reads less than grad_W, else ‖grad_W‖² (the numpy path's test of the gradients' size)."""
    n_rows, n_layers = xb.shape[0], sizes.shape[0] - 1
    w_end, b_end, bound = weights.shape[0], grad_b.shape[0], 0.0
    for l in range(n_layers - 1, -1, -1):
        n_in, n_out = sizes[l], sizes[l + 1]
        w_at, b_at = w_end - n_in * n_out, b_end - n_out
        W = weights[w_at:w_end].reshape((n_in, n_out))
        gW = grad_w[w_at:w_end].reshape((n_in, n_out))
        delta = layer_views(D, sizes, n_rows, l)
        x = xb if l == 0 else layer_views(Z, sizes, n_rows, l - 1)
        if n_rows == 1:  # the outer product x.T delta
            for i in range(n_in):
                for j in range(n_out):
                    gW[i, j] = x[0, i] * delta[0, j]
        else:
            product(blas, x, delta, gW, 1.0, 0.0, True, False)
        sum_rows(delta, grad_b[b_at:b_at + n_out])
        if l2 != 0.0:
            for k in range(w_at, w_end):
                grad_w[k] += l2 * weights[k]
            bound += squared(gW)
        elif x.size + delta.size < n_in * n_out:
            bound += squared(x) * squared(delta)
        else:
            bound += squared(gW)
        if l > 0:
            below = layer_views(D, sizes, n_rows, l - 1)
            product(blas, delta, W, below, 1.0, 0.0, False, True)
            times_derivative(codes[l - 1], alphas[l - 1], layer_views(A, sizes, n_rows, l - 1),
                             layer_views(Z, sizes, n_rows, l - 1), below)
        w_end, b_end = w_at, b_at
    return bound + squared(grad_b)


@jit
def deltas_and_bound(blas, xb, weights, sizes, codes, alphas, A, Z, D, grad_b):
    """Every layer's delta (from the output delta already in D's last layer down) and dC/db = Σ delta, without
    forming dC/dW = x.T delta. Returns a bound of ‖dC/dW‖² + ‖dC/db‖²: Σ_l ‖x_l‖² ‖delta_l‖² + ‖dC/db‖²
    (‖x.T delta‖ ≤ ‖x‖ ‖delta‖, equal for one row). :func:`sgd_update_in_place` then adds the products into W."""
    n_rows, n_layers = xb.shape[0], sizes.shape[0] - 1
    w_end, b_end, bound = weights.shape[0], grad_b.shape[0], 0.0
    for l in range(n_layers - 1, -1, -1):
        n_in, n_out = sizes[l], sizes[l + 1]
        w_at, b_at = w_end - n_in * n_out, b_end - n_out
        delta = layer_views(D, sizes, n_rows, l)
        x = xb if l == 0 else layer_views(Z, sizes, n_rows, l - 1)
        sum_rows(delta, grad_b[b_at:b_end])
        bound += squared(x) * squared(delta) + squared(grad_b[b_at:b_end])
        if l > 0:  # dC/dz_{l-1} = delta_l @ W_l.T, before W_l changes
            below = layer_views(D, sizes, n_rows, l - 1)
            product(blas, delta, weights[w_at:w_end].reshape((n_in, n_out)), below, 1.0, 0.0, False, True)
            times_derivative(codes[l - 1], alphas[l - 1], layer_views(A, sizes, n_rows, l - 1),
                             layer_views(Z, sizes, n_rows, l - 1), below)
        w_end, b_end = w_at, b_at
    return bound


@jit
def sgd_update_in_place(blas, xb, weights, sizes, Z, D, learning_rate, next_row, ahead, look_ahead):
    """Plain SGD on the weights without storing dC/dW: W_l += (−lr) x_l.T delta_l as one BLAS call that adds
    the product into W (C := alpha A B + C), or for one row entry by entry as the numpy path's g = x_i
    delta_j, then w += (−lr) g. One read and one write of each weight instead of a product pass writing
    dC/dW and an update pass reading it. ``look_ahead`` (one-row batches): while W_1's rows pass, also form
    the next batch's first-layer product ``ahead`` = next_row @ W_1 (after the update), so
    the next step need not read W_1 again."""
    n_rows = xb.shape[0]
    step = np.empty(1, weights.dtype)
    step[0] = -learning_rate
    w_at = 0
    for l in range(sizes.shape[0] - 1):
        n_in, n_out = sizes[l], sizes[l + 1]
        W = weights[w_at:w_at + n_in * n_out].reshape((n_in, n_out))
        delta = layer_views(D, sizes, n_rows, l)
        x = xb if l == 0 else layer_views(Z, sizes, n_rows, l - 1)
        if n_rows == 1 and l == 0 and look_ahead:
            for j in range(n_out):
                ahead[j] = 0.0
            for i in range(n_in):
                x_i, x_next = x[0, i], next_row[i]
                for j in range(n_out):
                    W[i, j] += step[0] * (x_i * delta[0, j])
                    ahead[j] += x_next * W[i, j]
        elif n_rows == 1:
            for i in range(n_in):
                x_i = x[0, i]
                for j in range(n_out):
                    W[i, j] += step[0] * (x_i * delta[0, j])
        else:
            product(blas, x, delta, W, step[0], 1.0, True, False)
        w_at += n_in * n_out


@jit
def update(optimizer, hyper, t, learning_rate, param, grad, first, second, decays):
    """One optimizer step on a flat array, in place (see optimizers.py for each rule); one loop per rule.
    hyper = (momentum or beta_1, beta_2, epsilon, weight_decay, 1 for Adam's epsilon_mode "v_hat" else 0);
    first/second: velocity, or m and v."""
    scalar = np.empty(6, param.dtype)  # the step's constants in the parameters' precision, as numpy has them
    scalar[0], scalar[1] = -learning_rate, hyper[0]
    n = param.shape[0]
    if optimizer == SGD:  # w −= lr g
        step = scalar[0]  # a local, so the loop vectorizes
        for k in range(n):
            param[k] += step * grad[k]
    elif optimizer == MOMENTUM:  # v = μ v − lr g;  w += v
        for k in range(n):
            first[k] = first[k] * scalar[1] + scalar[0] * grad[k]
            param[k] += first[k]
    elif optimizer == NESTEROV:  # v = μ v − lr g;  w += μ v − lr g
        for k in range(n):
            first[k] = first[k] * scalar[1] + scalar[0] * grad[k]
            param[k] += scalar[0] * grad[k]
            param[k] += scalar[1] * first[k]
    else:  # Adam(W): m, v moving averages; w −= lr_t m / (sqrt(v) + ε_t)
        if optimizer == ADAMW and decays and hyper[3] != 0.0:
            scalar[0] = 1.0 - learning_rate * hyper[3]
            for k in range(n):
                param[k] *= scalar[0]
        # math.pow (C's pow, as Python's ** and numpy's); numba's ** for an integer power multiplies by
        # squaring, a few ulps off, and over thousands of steps Adam then drifted from the numpy path
        correction_2 = math.sqrt(1.0 - math.pow(hyper[1], float(t)))
        scalar[0] = -learning_rate * correction_2 / (1.0 - math.pow(hyper[0], float(t)))
        scalar[1], scalar[2] = hyper[0], 1.0 - hyper[0]
        scalar[3], scalar[4] = hyper[1], 1.0 - hyper[1]
        scalar[5] = hyper[2] * correction_2 if hyper[4] != 0.0 else hyper[2]  # epsilon_mode "v_hat" or "v"
        for k in range(n):
            g = grad[k]
            first[k] = first[k] * scalar[1] + scalar[2] * g
            second[k] = second[k] * scalar[3] + scalar[4] * (g * g)
            param[k] += scalar[0] * (first[k] / (math.sqrt(second[k]) + scalar[5]))


@jit
def run_steps(blas, x, y, labels, order, batch_size, first_batch, n_batches, weights, biases, grad_w, grad_b,
              sizes, codes, alphas, cost, fused, l2, tiny, optimizer, hyper, t, learning_rate, state_w,
              state_b, bound_limit, A, Z, D, xb, yb, lb, losses, corrects):
    """Run batches first_batch .. first_batch + n_batches − 1 (0-based) of an epoch: gather, forward, cost,
    backward, update. Writes each batch's loss and correct count; returns (batches done, FINISHED or
    NEEDS_CHECK). A batch whose loss is not finite or whose gradient bound exceeds ``bound_limit`` (the
    squared explode threshold) is left untouched for the numpy path to check."""
    n_samples, n_layers = x.shape[0], sizes.shape[0] - 1
    ahead = np.zeros(sizes[1], dtype=weights.dtype)  # the next one-row batch's x @ W_1 (sgd_update_in_place)
    use_ahead = False
    for done in range(n_batches):
        start = (first_batch + done) * batch_size
        n_rows = min(batch_size, n_samples - start)
        xv, yv, lv = xb[:n_rows], yb[:n_rows], lb[:n_rows]
        gather(x, y, labels, order, start, xv, yv, lv)
        out = forward(blas, xv, weights, biases, sizes, codes, alphas, A, Z, ahead, use_ahead)
        use_ahead = False
        last = n_layers - 1
        a_out, delta_out = layer_views(A, sizes, n_rows, last), layer_views(D, sizes, n_rows, last)
        loss = output_delta(cost, fused, a_out, out, yv, delta_out, tiny)
        if not fused:  # delta_L = dC/dŷ ⊙ f'(a_L)   (the general chain rule)
            times_derivative(codes[last], alphas[last], a_out, out, delta_out)
        if l2 != 0.0:
            loss += 0.5 * l2 * squared(weights)
        if not math.isfinite(loss):
            return done, NEEDS_CHECK
        # plain SGD: the products are added into the weights directly (dC/dW is not stored)
        in_place = optimizer == SGD and l2 == 0.0 and (n_rows == 1 or adds_in_place(blas))
        if in_place:
            in_place = deltas_and_bound(blas, xv, weights, sizes, codes, alphas, A, Z, D, grad_b) <= bound_limit
        if not in_place:
            bound = backward(blas, xv, weights, sizes, codes, alphas, A, Z, D, grad_w, grad_b, l2)
            if not bound <= bound_limit:
                exact = squared(grad_w) + squared(grad_b)
                if not exact <= bound_limit:
                    return done, NEEDS_CHECK
        losses[done] = loss
        corrects[done] = n_correct(out, lv)
        t += 1
        if in_place:
            # one-row batches: form the next batch's first product while W_1 passes (it must be one row too)
            use_ahead = n_rows == 1 and done + 1 < n_batches and start + 1 < n_samples
            next_row = x[order[start + 1 if use_ahead else start]]
            sgd_update_in_place(blas, xv, weights, sizes, Z, D, learning_rate, next_row, ahead, use_ahead)
        else:
            update(optimizer, hyper, t, learning_rate, weights, grad_w, state_w[0], state_w[1], True)
        update(optimizer, hyper, t, learning_rate, biases, grad_b, state_b[0], state_b[1], False)
    return n_batches, FINISHED


@jit
def run_epochs(blas, x, y, labels, orders, batch_size, n_batches, weights, biases, grad_w, grad_b, sizes, codes, alphas,
               cost, fused, l2, tiny, optimizer, hyper, t, learning_rates, state_w, state_b, bound_limit, A, Z, D,
               xb, yb, lb, losses, corrects):
    """Whole epochs in one call (data sets of a few batches, where returning to Python each epoch would cost
    more than the epoch): epoch e takes its rows in ``orders[e]`` at ``learning_rates[e]`` and writes its
    batches' losses and correct counts into row e of ``losses`` and ``corrects``. Returns (epochs done,
    batches done in the next one, FINISHED or NEEDS_CHECK); a batch that needs the numpy path's checks
    stops the run before its update, as in :func:`run_steps`."""
    for epoch in range(orders.shape[0]):
        done, status = run_steps(blas, x, y, labels, orders[epoch], batch_size, 0, n_batches, weights, biases, grad_w,
                                 grad_b, sizes, codes, alphas, cost, fused, l2, tiny, optimizer, hyper, t,
                                 learning_rates[epoch], state_w, state_b, bound_limit, A, Z, D, xb, yb, lb,
                                 losses[epoch], corrects[epoch])
        t += done
        if status == NEEDS_CHECK:
            return epoch, done, status
    return orders.shape[0], 0, FINISHED
