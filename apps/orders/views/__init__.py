"""Order pages: the cart (cart.py) and checkout, payment and orders (orders.py)."""
