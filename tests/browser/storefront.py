"""The shopper's storefront in a real browser (Chromium through WebDriver), against a fresh `borderless demo`.

Drives what shoppers do: search in Korean ("무선 이어폰") → product → pick up at Gangnam → sign in as a demo
shopper → pay by wallet → the order page refreshes itself and shows the pickup code and its QR → staff hand
it over at the console's pickup desk → the account shows it collected; a guest checkout paid at pickup with
JavaScript turned off (search included) and the language switch; the payment QR renewing itself and paying
a till sale exactly once; a till's payment request confirmed from the wallet; a product's 3D model opening
in the vendored viewer; the shopping assistant's chat answering in place and staff taking over a hand-off
from the console. Then the main pages in both
languages at phone and laptop widths: screenshots kept, accessibility basics and the browser's error log
checked.

Usage: python3 tests/browser/storefront.py PATH/TO/borderless [SCREENSHOT_DIR]
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/debug/borderless"
SHOTS = harness.Shots(sys.argv[2] if len(sys.argv) > 2 else "artifacts/screenshots/storefront")
PW = "borderless-demo"
EARBUDS = "wireless-noise-cancelling-earbuds-lite"

demo = harness.Demo(BIN)
suite = harness.Suite()
flash = harness.flash


def location_id(code):
    _, locs = demo.admin("GET", "/admin/locations", expect=200)
    return next(l["id"] for l in locs["data"] if l["code"] == code)


def earbuds_sku():
    _, p = demo.api("GET", f"/store/products/{EARBUDS}", expect=200)
    return p["product"]["variants"][0]["sku"]


def clean(d, where):
    """Accessibility basics and no script errors or CSP violations on the page."""
    problems = harness.check_page(d) + harness.problems_in_console(d)
    assert not problems, f"{where}: {problems}"


def search_and_open_earbuds(d, size_name, lang="ko"):
    d.get(demo.url + "/")
    box = d.find_element(By.ID, "q-top")
    box.send_keys("무선 이어폰")
    box.submit()
    harness.wait_for(d, lambda: "/search" in d.current_url and d.find_elements(By.CSS_SELECTOR, f'a[href="/p/{EARBUDS}"]'),
                     what="the earbuds in the results")
    SHOTS.take(d, f"{lang}-{size_name}-search")
    harness.click(d, By.CSS_SELECTOR, f'a[href="/p/{EARBUDS}"]')
    harness.wait_for(d, lambda: f"/p/{EARBUDS}" in d.current_url, what="the product page")


def add_and_pick_up_at_gangnam(d, size_name):
    harness.click(d, By.XPATH, "//button[normalize-space()='장바구니에 담기']")
    flash(d, "장바구니에 담았습니다")
    d.get(demo.url + "/cart")
    gangnam = location_id("GANGNAM")
    harness.click(d, By.CSS_SELECTOR, f'input[name=choice][value="pickup:{gangnam}"]')
    SHOTS.take(d, f"ko-{size_name}-cart")
    harness.click(d, By.XPATH, "//button[normalize-space()='저장하고 계속']")
    harness.wait_for(d, lambda: d.current_url.endswith("/checkout"), what="checkout")


def test_search_pickup_wallet_handover():
    d = harness.browser(harness.PHONE)
    staff = None
    try:
        search_and_open_earbuds(d, "phone")
        body = harness.text(d)
        assert "강남역점" in body and "오늘 픽업" in body, body[:600]
        SHOTS.take(d, "ko-phone-product")
        add_and_pick_up_at_gangnam(d, "phone")
        # Checking out offers signing in to pay from the wallet.
        harness.click(d, By.PARTIAL_LINK_TEXT, "로그인하면 지갑으로")
        d.find_element(By.NAME, "email").send_keys("junho.lee@example.com")
        d.find_element(By.NAME, "password").send_keys(PW)
        harness.click(d, By.XPATH, "//button[normalize-space()='로그인']")
        harness.wait_for(d, lambda: d.current_url.endswith("/checkout"), what="back at checkout, signed in")
        wallet = d.find_element(By.CSS_SELECTOR, "input[name=method][value=wallet]")
        assert wallet.is_selected(), "the wallet is offered first when it holds enough"
        SHOTS.take(d, "ko-phone-checkout")
        harness.click(d, By.XPATH, "//button[normalize-space()='주문 확정']")
        flash(d, "주문이 완료되었습니다")
        order = d.current_url.split("/orders/")[1].split("?")[0]
        SHOTS.take(d, "ko-phone-order-placed")
        # The store gets it ready; the open order page refreshes itself and shows the code and its QR.
        demo.admin("POST", f"/admin/orders/{order}/ready-for-pickup", {}, expect=200)
        code = harness.wait_for(d, lambda: d.find_elements(By.CSS_SELECTOR, ".pickup-code .code") and
                                d.find_element(By.CSS_SELECTOR, ".pickup-code .code").text, timeout=45,
                                what="the pickup code after the page refreshed itself")
        assert d.find_element(By.CSS_SELECTOR, ".pickup-code img").get_attribute("src").startswith("data:image/svg+xml")
        SHOTS.take(d, "ko-phone-order-ready")
        # At the desk, staff type the code the shopper shows.
        staff = harness.browser()
        staff.get(f"{demo.url}/console/login")
        staff.find_element(By.NAME, "email").send_keys("gangnam.staff@example.com")
        staff.find_element(By.NAME, "password").send_keys(PW)
        harness.click(staff, By.CSS_SELECTOR, "form button[type=submit]")
        harness.wait_for(staff, lambda: staff.current_url.rstrip("/").endswith("/console"), what="the console")
        staff.get(f"{demo.url}/console/pickup")
        field = staff.find_element(By.ID, "f-code")
        field.send_keys(code)
        field.submit()
        flash(staff, "인도 완료")
        d.get(demo.url + "/account")
        assert "픽업 완료" in harness.text(d), "the account shows it collected"
        SHOTS.take(d, "ko-phone-account")
    finally:
        d.quit()
        if staff:
            staff.quit()


def test_guest_without_javascript():
    d = harness.browser(harness.PHONE, javascript=False)
    try:
        search_and_open_earbuds(d, "phone-nojs")
        add_and_pick_up_at_gangnam(d, "phone-nojs")
        d.find_element(By.NAME, "email").send_keys("browser.guest@example.com")
        harness.click(d, By.CSS_SELECTOR, "input[name=method][value=pay_at_pickup]")
        harness.click(d, By.XPATH, "//button[normalize-space()='주문 확정']")
        harness.wait_for(d, lambda: "/orders/" in d.current_url and "token=" in d.current_url, what="the guest's order page")
        flash(d, "주문이 완료되었습니다")
        assert "주문 접수" in harness.text(d)
        SHOTS.take(d, "ko-phone-nojs-order")
        # The language switch keeps the page (and its secret link).
        harness.click(d, By.LINK_TEXT, "English")
        harness.wait_for(d, lambda: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en"
                         and "Your order" in harness.text(d), what="the order in English")
        assert "token=" in d.current_url
        SHOTS.take(d, "en-phone-nojs-order")
    finally:
        d.quit()


def test_payment_qr_rotates_and_pays_once():
    sku, gangnam = earbuds_sku(), location_id("GANGNAM")
    d = harness.browser(harness.PHONE)
    try:
        d.get(f"{demo.url}/account/login?next=%2Faccount%2Fpay")
        d.find_element(By.NAME, "email").send_keys("minji.kim@example.com")
        d.find_element(By.NAME, "password").send_keys(PW)
        harness.click(d, By.XPATH, "//button[normalize-space()='로그인']")
        harness.wait_for(d, lambda: d.current_url.endswith("/account/pay"), what="the payment QR page")
        harness.click(d, By.XPATH, "//button[normalize-space()='결제 QR 보기']")
        first = harness.wait_for(d, lambda: d.find_element(By.CSS_SELECTOR, "#paycode .code").text, what="a code")
        SHOTS.take(d, "ko-phone-payment-qr")
        # Before it expires the page fetches a new one by itself.
        second = harness.wait_for(d, lambda: (t := d.find_element(By.CSS_SELECTOR, "#paycode .code").text) != first and t,
                                  timeout=80, what="a renewed code")
        sale = {"location_id": gangnam, "lines": [{"sku": sku, "quantity": 1}], "payment": {"method": "wallet_qr", "code": second}}
        demo.admin("POST", "/admin/pos/sales", sale, headers={"Idempotency-Key": "qr-once-1"}, expect=201)
        status, again = demo.admin("POST", "/admin/pos/sales", sale, headers={"Idempotency-Key": "qr-once-2"})
        assert status in (400, 402, 409, 422), f"a code pays once: {status} {again}"
        status, old = demo.admin("POST", "/admin/pos/sales", sale | {"payment": {"method": "wallet_qr", "code": first}},
                                 headers={"Idempotency-Key": "qr-once-3"})
        assert status >= 400, f"the replaced code no longer pays: {status} {old}"
    finally:
        d.quit()


def test_till_payment_request():
    sku, gangnam = earbuds_sku(), location_id("GANGNAM")
    _, r = demo.admin("POST", "/admin/pos/payment-requests", {"location_id": gangnam, "lines": [{"sku": sku, "quantity": 1}]},
                      expect=201)
    qr = r["payment_request"]["qr"]
    d = harness.browser(harness.PHONE)
    try:
        d.get(f"{demo.url}/account/login?next=%2Faccount%2Fpay%2Frequest")
        d.find_element(By.NAME, "email").send_keys("seoyeon.park@example.com")
        d.find_element(By.NAME, "password").send_keys(PW)
        harness.click(d, By.XPATH, "//button[normalize-space()='로그인']")
        harness.wait_for(d, lambda: "/account/pay/request" in d.current_url, what="the payment request page")
        box = d.find_element(By.ID, "f-code")
        box.send_keys(qr)
        box.submit()
        harness.wait_for(d, lambda: "₩89,000" in harness.text(d), what="the request's amount")
        SHOTS.take(d, "ko-phone-payment-request")
        harness.click(d, By.XPATH, "//button[normalize-space()='내 지갑으로 결제']")
        flash(d, "결제했습니다")
        assert "/orders/" in d.current_url
    finally:
        d.quit()


def test_live_availability():
    sku, hongdae = earbuds_sku(), location_id("HONGDAE")
    d = harness.browser(harness.PHONE)
    try:
        d.get(f"{demo.url}/p/{EARBUDS}")
        item = f'ul[data-availability] li[data-loc="{hongdae}"]'
        before = d.find_element(By.CSS_SELECTOR, item).text
        demo.admin("POST", "/admin/inventory/adjustments",
                   {"sku": sku, "location_id": hongdae, "quantity_delta": 7, "reason": "browser test: delivery"}, expect=201)
        after = harness.wait_for(d, lambda: (t := d.find_element(By.CSS_SELECTOR, item).text) != before and t,
                                 timeout=45, what="the Hongdae line to follow the stock without a reload")
        assert "홍대" in after and "개" in after, after
    finally:
        d.quit()


def test_3d_viewer():
    d = harness.browser(harness.PHONE)
    try:
        d.get(f"{demo.url}/p/{EARBUDS}")
        button = d.find_element(By.CSS_SELECTOR, "button[data-model-viewer]")
        assert button.is_displayed(), "the 3D button shows with JavaScript"
        button.click()
        harness.wait_for(d, lambda: d.execute_script("const m = document.querySelector('model-viewer'); return !!(m && m.loaded);"),
                         timeout=30, what="the 3D model loaded in the viewer")
        d.execute_script("document.querySelector('model-viewer').scrollIntoView()")
        time.sleep(1.0)
        SHOTS.take(d, "ko-phone-product-3d")
        errors = harness.problems_in_console(d)
        assert not errors, f"the viewer runs under the Content-Security-Policy: {errors}"
    finally:
        d.quit()


def test_assistant_chat():
    """Asks the assistant with JavaScript on: the answer appears in place (no page load), with products in
    stock at the chosen store; a refinement; a clarifying question's option tapped; staff answer a hand-off
    from the console and the reply appears by itself."""
    d = harness.browser(harness.PHONE)
    staff = None
    try:
        d.get(f"{demo.url}/assistant")
        d.execute_script("window.__same_page = 1")
        box = d.find_element(By.ID, "chat-text")
        box.send_keys("강남역점에서 오늘 픽업 가능한 10만원 이하 무선 이어폰")
        harness.click(d, By.CSS_SELECTOR, "#chat-form button[type=submit]")
        harness.wait_for(d, lambda: len(d.find_elements(By.CSS_SELECTOR, ".msg.assistant .chat-products li")) > 0,
                         timeout=20, what="the assistant's answer with products")
        assert d.execute_script("return window.__same_page") == 1, "answered in place, without loading a page"
        answer = d.find_elements(By.CSS_SELECTOR, ".msg.assistant")[-1].text
        assert "보더리스 강남역점" in answer and "오늘 픽업 가능" in answer, answer
        SHOTS.take(d, "ko-phone-assistant-answer")
        n = len(d.find_elements(By.CSS_SELECTOR, ".msg"))
        d.find_element(By.ID, "chat-text").send_keys("더 싼 거")
        harness.click(d, By.CSS_SELECTOR, "#chat-form button[type=submit]")
        harness.wait_for(d, lambda: len(d.find_elements(By.CSS_SELECTOR, ".msg")) >= n + 2, timeout=20, what="the refinement's answer")
        # A broad request gets a question; tapping an option answers it.
        d.find_element(By.ID, "chat-text").send_keys("옷 보여줘")
        harness.click(d, By.CSS_SELECTOR, "#chat-form button[type=submit]")
        harness.wait_for(d, lambda: d.find_elements(By.CSS_SELECTOR, ".chat-options button"), timeout=20, what="the question's options")
        n = len(d.find_elements(By.CSS_SELECTOR, ".msg"))
        harness.click(d, By.CSS_SELECTOR, ".chat-options button")
        harness.wait_for(d, lambda: len(d.find_elements(By.CSS_SELECTOR, ".msg")) >= n + 2, timeout=20, what="the option sent as a message")
        # Hand-off: staff answer in the console; the reply shows up in the shopper's chat by itself.
        d.find_element(By.ID, "chat-text").send_keys("직원이랑 얘기하고 싶어요")
        harness.click(d, By.CSS_SELECTOR, "#chat-form button[type=submit]")
        harness.wait_for(d, lambda: "직원이 이곳에 답해 드릴 거예요" in d.find_element(By.ID, "chat").text, timeout=20, what="the hand-off")
        conv = d.get_cookie("bl_chat")["value"]
        staff = harness.browser(harness.LAPTOP)
        staff.get(f"{demo.url}/console/login")
        staff.find_element(By.NAME, "email").send_keys("gangnam.staff@example.com")
        staff.find_element(By.NAME, "password").send_keys(PW)
        harness.click(staff, By.CSS_SELECTOR, "form button[type=submit]")
        harness.wait_for(staff, lambda: "/console/login" not in staff.current_url, timeout=15, what="the staff sign-in")
        staff.get(f"{demo.url}/console/chats")
        harness.wait_for(staff, lambda: conv[:14] in staff.page_source or "직원이랑" in staff.page_source, timeout=15, what="the chat in the console's list")
        SHOTS.take(staff, "ko-laptop-console-chats")
        staff.get(f"{demo.url}/console/chats/{conv}")
        staff.find_element(By.ID, "f-reply").send_keys("안녕하세요, 강남역점 직원입니다!")
        harness.click(staff, By.CSS_SELECTOR, "form.card button[type=submit]")
        harness.wait_for(d, lambda: "강남역점 직원입니다" in d.find_element(By.ID, "chat").text, timeout=30,
                         what="the staff reply appearing in the shopper's chat without a reload")
        assert d.execute_script("return window.__same_page") == 1
        SHOTS.take(d, "ko-phone-assistant-staff-reply")
        errors = harness.problems_in_console(d)
        assert not errors, errors
    finally:
        d.quit()
        if staff:
            staff.quit()


PAGES = [
    ("home", "/"),
    ("search", "/search?q=%EB%AC%B4%EC%84%A0+%EC%9D%B4%EC%96%B4%ED%8F%B0"),
    ("category", "/search?category=electronics%2Faudio"),
    ("product", f"/p/{EARBUDS}"),
    ("stores", "/stores"),
    ("cart", "/cart"),
    ("signin", "/account/login"),
    ("signup", "/account/signup"),
    ("signup-link", "/account/verify?token=bl_signup_screenshot"),
    ("privacy", "/account/privacy"),
    ("assistant", "/assistant"),
]


def test_every_page(lang, size_name, size):
    d = harness.browser(size, lang)
    try:
        d.get(f"{demo.url}/?lang={lang}")
        d.get(f"{demo.url}/p/{EARBUDS}?lang={lang}")
        harness.click(d, By.CSS_SELECTOR, "form.buy button[type=submit]")
        time.sleep(0.3)
        for name, path in PAGES:
            d.get(demo.url + path)
            assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang, f"{name} in {lang}"
            clean(d, f"{name} ({lang}, {size_name})")
            SHOTS.take(d, f"{lang}-{size_name}-{name}")
    finally:
        d.quit()


try:
    suite.step("search in Korean, pick up at Gangnam, pay by wallet, hand over at the desk", test_search_pickup_wallet_handover)
    suite.step("a guest's pay-at-pickup checkout with JavaScript off, and the language switch", test_guest_without_javascript)
    suite.step("the payment QR renews itself and pays a till sale once", test_payment_qr_rotates_and_pays_once)
    suite.step("a till's payment request confirmed from the wallet", test_till_payment_request)
    suite.step("a product's 3D model opens in the viewer", test_3d_viewer)
    suite.step("per-store stock on a product page follows the stock live", test_live_availability)
    suite.step("the shopping assistant answers in place, and staff take over a hand-off", test_assistant_chat)
    for lang in ["ko", "en"]:
        for size_name, size in [("phone", harness.PHONE), ("laptop", harness.LAPTOP)]:
            suite.step(f"the main pages, {lang}, {size_name}", test_every_page, lang, size_name, size)
finally:
    print(f"{SHOTS.count} screenshots in {SHOTS.dir}")
    demo.stop()
suite.finish()
