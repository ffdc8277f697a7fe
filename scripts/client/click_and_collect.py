"""The README's click & collect walk-through, through a client generated from borderless's /openapi.json.

`.ci/run` generates the package `borderless_client` with openapi-python-client (PyPI) from the running
demo's document and runs this script against that demo, so a standard generator is proven to understand
the published contract end to end: browse, cart, pickup at Gangnam, checkout (retried with the same
Idempotency-Key), the reservation in the stock ledger, ready for pickup, the shopper's code, the hand-over.

Usage: python click_and_collect.py BASE_URL ADMIN_KEY   (with the generated package on PYTHONPATH)
"""

import sys

from borderless_client import AuthenticatedClient, Client
from borderless_client.api.inventory import get_admin_inventory_sku
from borderless_client.api.pickup import post_admin_orders_id_picked_up, post_admin_orders_id_ready_for_pickup
from borderless_client.api.storefront import (
    get_store_orders_id,
    get_store_products_id,
    post_store_carts,
    post_store_carts_id_checkout,
    post_store_carts_id_lines,
    put_store_carts_id_fulfillment,
)
from borderless_client.models import (
    CartIn,
    CheckoutIn,
    ErrorBody,
    LineIn,
    PaymentIn,
    PickedUpIn,
    PickupFulfillment,
)

HANDLE = "wireless-noise-cancelling-earbuds-lite"
SKU = "EAR-ANC-LT-BLK"
STORE = "GANGNAM"


def ok(answer, what):
    """The typed answer, or a clear failure naming the step and the API's error."""
    if answer is None or isinstance(answer, ErrorBody):
        detail = answer.error.code + ": " + answer.error.message if answer else "no parsed body"
        sys.exit(f"FAILED at {what}: {detail}")
    return answer


def gangnam(levels):
    return next(l for l in levels.locations if l.location_code == STORE)


def main(base_url: str, admin_key: str) -> None:
    shop = Client(base_url=base_url, raise_on_unexpected_status=True)
    staff = AuthenticatedClient(base_url=base_url, token=admin_key, raise_on_unexpected_status=True)

    product = ok(get_store_products_id.sync(id=HANDLE, client=shop), "product page").product
    stores = next(v for v in product.availability if v.sku == SKU).stores
    here = next(s for s in stores if s.code == STORE)
    print(f"{product.title.en}: {here.label.en} / {here.label.ko}")
    assert here.available > 0 and here.pickup_enabled, "the demo stocks the earbuds at Gangnam"

    before = gangnam(ok(get_admin_inventory_sku.sync(sku=SKU, client=staff), "stock before"))
    cart = ok(post_store_carts.sync(client=shop, body=CartIn(currency="KRW")), "cart").cart.id
    ok(post_store_carts_id_lines.sync(id=cart, client=shop, body=LineIn(sku=SKU, quantity=1)), "add line")
    ok(
        put_store_carts_id_fulfillment.sync(
            id=cart, client=shop, body=PickupFulfillment(type_="pickup", location_id=STORE)
        ),
        "pickup at Gangnam",
    )
    checkout = CheckoutIn(email="minji.kim@example.com", payment=PaymentIn(method="pay_at_pickup"))
    order = ok(post_store_carts_id_checkout.sync(id=cart, client=shop, body=checkout, idempotency_key=cart), "checkout").order
    again = ok(post_store_carts_id_checkout.sync(id=cart, client=shop, body=checkout, idempotency_key=cart), "retry").order
    assert again.id == order.id, "a retried checkout with the same Idempotency-Key is the same order"
    print(f"order {order.id}: {order.status}, {order.total.amount} {order.total.currency}")

    held = gangnam(ok(get_admin_inventory_sku.sync(sku=SKU, client=staff), "stock after checkout"))
    assert held.reserved == before.reserved + 1 and held.on_hand == before.on_hand, "one unit reserved at Gangnam"

    ready = ok(post_admin_orders_id_ready_for_pickup.sync(id=order.id, client=staff), "ready for pickup").order
    assert ready.status == "ready_for_pickup", ready.status
    assert order.access_token and again.access_token == order.access_token, "the guest's order token, stable on retry"
    hidden = get_store_orders_id.sync(id=order.id, client=Client(base_url=base_url))
    assert isinstance(hidden, ErrorBody) and hidden.error.code == "not_found", "an order id alone reveals nothing"
    page = get_store_orders_id.sync(id=order.id, client=shop, token=order.access_token)
    code = ok(page, "order page").order.pickup.code
    assert code and len(code) == 6, "the shopper's order page shows the pickup code"

    done = ok(post_admin_orders_id_picked_up.sync(id=order.id, client=staff, body=PickedUpIn(code=code)), "hand-over")
    assert done.order.status == "picked_up" and done.order.payment.status == "paid", done.order.status
    after = gangnam(ok(get_admin_inventory_sku.sync(sku=SKU, client=staff), "stock after hand-over"))
    assert after.on_hand == before.on_hand - 1 and after.reserved == before.reserved, "the reservation became a sale"
    print(f"handed over with code {code}: on hand at {STORE} {before.on_hand} → {after.on_hand}; payment {done.order.payment.status}")
    print("ok: the README's click & collect flow runs through the generated client")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
