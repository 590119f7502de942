"""The reduced social-credit model, implemented four ways (scslab, Mesa, Starsim, Numba)."""
