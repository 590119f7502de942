"""The economy: debts, market, firms, lending, the credit bureau."""
