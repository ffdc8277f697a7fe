"""The staff console in a real browser (Chromium through WebDriver), against a fresh `borderless demo`.

Drives what staff do all day: signing in; finding a click & collect order and handing it over with the
shopper's code; a till sale paid by the shopper's one-time wallet QR; a stock adjustment and a transfer;
resolving a cashierless review; a CSV import with one bad line — in Korean and in English; the analytics
dashboard's charts (uPlot) with the dwell heatmap. Then every
screen, in both languages, at phone and laptop widths: screenshots kept, accessibility basics and the
browser's error log checked.

Usage: python3 tests/browser/console.py PATH/TO/borderless [SCREENSHOT_DIR]
"""
import math
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

BIN = sys.argv[1] if len(sys.argv) > 1 else "target/debug/borderless"
SHOTS = harness.Shots(sys.argv[2] if len(sys.argv) > 2 else "artifacts/screenshots/console")
PW = "borderless-demo"
EARBUDS = "wireless-noise-cancelling-earbuds-lite"

demo = harness.Demo(BIN)
suite = harness.Suite()


def login(d, email, lang="ko"):
    d.get(f"{demo.url}/console/login?lang={lang}")
    d.find_element(By.NAME, "email").send_keys(email)
    d.find_element(By.NAME, "password").send_keys(PW)
    harness.click(d, By.CSS_SELECTOR, "form button[type=submit]")
    harness.wait_for(d, lambda: d.current_url.rstrip("/").endswith("/console"), what="the Today screen")
    assert d.find_element(By.TAG_NAME, "html").get_attribute("lang") in ("ko", "en")


flash = harness.flash


def location_id(code):
    _, locs = demo.admin("GET", "/admin/locations", expect=200)
    return next(l["id"] for l in locs["data"] if l["code"] == code)


def earbuds_sku():
    _, p = demo.api("GET", f"/store/products/{EARBUDS}", expect=200)
    return p["product"]["variants"][0]["sku"]


def shopper_token(email):
    _, s = demo.api("POST", "/store/auth/login", {"email": email, "password": PW}, expect=200)
    return s["token"]


def test_login_errors():
    d = harness.browser()
    try:
        d.get(f"{demo.url}/console")
        assert "/console/login" in d.current_url, d.current_url
        d.find_element(By.NAME, "email").send_keys("owner@example.com")
        d.find_element(By.NAME, "password").send_keys("not the password")
        harness.click(d, By.CSS_SELECTOR, "form button[type=submit]")
        body = harness.wait_for(d, lambda: "올바르지 않습니다" in harness.text(d) and harness.text(d), what="the Korean refusal")
        assert "다시 입력해 주세요" in body
        assert d.find_element(By.NAME, "email").get_attribute("value") == "owner@example.com", "the email is kept"
        SHOTS.take(d, "ko-laptop-login-error")
    finally:
        d.quit()


def test_pickup_handover():
    gangnam, sku = location_id("GANGNAM"), earbuds_sku()
    _, cart = demo.api("POST", "/store/carts", {"currency": "KRW"}, expect=201)
    cid = cart["cart"]["id"]
    demo.api("POST", f"/store/carts/{cid}/lines", {"sku": sku, "quantity": 1}, expect=200)
    demo.api("PUT", f"/store/carts/{cid}/fulfillment", {"type": "pickup", "location_id": gangnam}, expect=200)
    _, o = demo.api("POST", f"/store/carts/{cid}/checkout", {"email": "browser.pickup@example.com", "payment": {"method": "pay_at_pickup"}},
                    headers={"Idempotency-Key": cid}, expect=201)
    order = o["order"]["id"]
    d = harness.browser()
    try:
        login(d, "gangnam.staff@example.com")
        d.get(f"{demo.url}/console/orders")
        box = d.find_element(By.ID, "f-q")
        box.send_keys("browser.pickup@example.com")
        box.submit()
        harness.click(d, By.LINK_TEXT, order)
        harness.wait_for(d, lambda: order in d.current_url, what="the order page")
        SHOTS.take(d, "ko-laptop-order-placed")
        harness.click(d, By.XPATH, "//button[normalize-space()='픽업 준비 완료']")
        flash(d, "픽업 준비 완료")
        _, view = demo.api("GET", f"/store/orders/{order}", headers={"X-Order-Token": o["order"]["access_token"]}, expect=200)
        code = view["order"]["pickup"]["code"]
        d.get(f"{demo.url}/console/pickup")
        assert order in harness.text(d), "the queue lists the ready order"
        SHOTS.take(d, "ko-laptop-pickup-queue")
        # Paid at the desk: handing over without "payment taken" is refused and says what to take.
        field = d.find_element(By.ID, "f-code")
        field.send_keys(code)
        field.submit()
        flash(d, "매장에서 결제하는 주문입니다")
        _, still = demo.admin("GET", f"/admin/orders/{order}", expect=200)
        assert still["order"]["status"] == "ready_for_pickup", still["order"]["status"]
        harness.click(d, By.ID, "f-collected")
        field = d.find_element(By.ID, "f-code")
        field.send_keys(code)
        field.submit()
        flash(d, "인도 완료")
        _, after = demo.admin("GET", f"/admin/orders/{order}", expect=200)
        assert after["order"]["status"] == "picked_up", after["order"]["status"]
    finally:
        d.quit()


def test_till_wallet_qr():
    sku = earbuds_sku()
    token = shopper_token("junho.lee@example.com")
    _, c = demo.api("POST", "/store/wallet/payment-codes", token=token, expect=201)
    code = c["payment_code"]["code"]
    d = harness.browser()
    try:
        login(d, "gangnam.staff@example.com")
        d.get(f"{demo.url}/console/till")
        box = d.find_element(By.ID, "f-code")
        box.send_keys(sku)
        box.submit()
        harness.wait_for(d, lambda: d.find_elements(By.CSS_SELECTOR, "input[name=line]"), what="the basket")
        harness.click(d, By.CSS_SELECTOR, "input[name=method][value=wallet_qr]")
        d.find_element(By.ID, "f-pay_code").send_keys(code)
        SHOTS.take(d, "ko-laptop-till-basket")
        harness.click(d, By.XPATH, "//button[starts-with(normalize-space(), '결제하기')]")
        harness.wait_for(d, lambda: d.current_url.endswith("/receipt"), what="the receipt")
        assert "영수증" in d.title and "₩" in harness.text(d)
        SHOTS.take(d, "ko-laptop-receipt")
        order = d.current_url.split("/")[-2]
        _, o = demo.admin("GET", f"/admin/orders/{order}", expect=200)
        assert o["order"]["payment"]["method"] == "wallet" and o["order"]["status"] == "completed", o["order"]
    finally:
        d.quit()


def test_stock_adjust_and_transfer():
    sku, gangnam, hongdae = earbuds_sku(), location_id("GANGNAM"), location_id("HONGDAE")

    def on_hand(loc):
        _, lv = demo.admin("GET", f"/admin/inventory/{sku}", expect=200)
        return next(l["on_hand"] for l in lv["locations"] if l["location_id"] == loc)

    g0, h0 = on_hand(gangnam), on_hand(hongdae)
    d = harness.browser()
    try:
        login(d, "owner@example.com")
        d.get(f"{demo.url}/console/inventory/{sku}")
        harness.click(d, By.XPATH, "//summary[.//text()[contains(., '실사 후 조정')]]")
        from selenium.webdriver.support.ui import Select
        Select(d.find_element(By.ID, "f-adjust-location")).select_by_value(gangnam)
        d.find_element(By.ID, "f-adjust-delta").send_keys("-1")
        d.find_element(By.ID, "f-adjust-reason").send_keys("브라우저 테스트: 파손")
        harness.click(d, By.XPATH, "//button[normalize-space()='조정']")
        flash(d, "조정 완료")
        assert on_hand(gangnam) == g0 - 1, (g0, on_hand(gangnam))
        harness.click(d, By.XPATH, "//summary[.//text()[contains(., '다른 지점으로 이동')]]")
        Select(d.find_element(By.ID, "f-transfer-from")).select_by_value(gangnam)
        Select(d.find_element(By.ID, "f-transfer-to")).select_by_value(hongdae)
        d.find_element(By.ID, "f-transfer-quantity").send_keys("2")
        SHOTS.take(d, "ko-laptop-transfer-form")
        harness.click(d, By.XPATH, "//button[normalize-space()='이동']")
        flash(d, "이동 완료")
        after = (on_hand(gangnam), on_hand(hongdae))
        assert after == (g0 - 3, h0 + 2), (g0, h0, after)
        # A bad quantity is explained at the field and the typed value is kept.
        harness.click(d, By.XPATH, "//summary[.//text()[contains(., '실사 후 조정')]]")
        d.find_element(By.ID, "f-adjust-delta").send_keys("0")
        d.find_element(By.ID, "f-adjust-reason").send_keys("x")
        harness.click(d, By.XPATH, "//button[normalize-space()='조정']")
        err = harness.wait_for(d, lambda: d.find_element(By.CSS_SELECTOR, ".field.invalid .error").text, what="the field error")
        assert "0이 아닌" in err, err
        assert d.find_element(By.ID, "f-adjust-reason").get_attribute("value") == "x", "what was typed is kept"
        SHOTS.take(d, "ko-laptop-adjust-error")
    finally:
        d.quit()


# ---- a cashierless review, staged through the device API -----------------------------------------------

T0 = 1_800_000_000.0


def plate_events(seq, pick, units=1):
    out, t = [], T0 + 1.0
    while t < T0 + 10.0:
        end = min(t + 0.5, T0 + 10.0)
        samples, k = [], 0
        while t + k / 60.0 < end:
            ts = t + k / 60.0
            for p in range(1, 5):
                base = 1000.0 if p <= 2 else 600.0
                if p <= 2 and pick <= ts < pick + 0.8:
                    w = base - (125.0 + 40.0 * math.sin(ts * 50.0)) * units
                elif p <= 2 and ts >= pick + 0.8:
                    w = base - 250.0 * units
                else:
                    w = base
                samples.append([ts, 1, p, w + math.sin(ts * 37.0 + p) * 0.4])
            k += 1
        seq += 1
        out.append({"seq": seq, "type": "plates", "gondola": 1, "samples": samples})
        t = end
    return out


def track_events(targets):
    out, t, seq = [], T0 + 1.0, 0
    while t < T0 + 10.0:
        frames = []
        for target in targets:
            for k in range(10):
                ts = t + k * 0.1
                hand = [0.1, -0.2, 1.15] if T0 + 4.6 <= ts <= T0 + 5.6 else [0.1, -0.75, 1.0]
                frames.append({"t": ts, "target_id": target, "joints": {
                    "head": [0.1, -0.9, 1.65], "neck": [0.1, -0.9, 1.5], "l_shoulder": [-0.1, -0.9, 1.45],
                    "r_shoulder": [0.3, -0.9, 1.45], "r_wrist": hand, "r_hand": [hand[0], hand[1] + 0.05, hand[2]],
                    "l_wrist": [-0.15, -0.85, 1.0]}})
        seq += 1
        out.append({"seq": seq, "type": "tracks", "frames": frames})
        t += 1.0
    return out


def stage_review(units=1, code="GO-BROWSER"):
    """A one-shelf cashierless store where two shoppers reach into the same box at once and `units` leave
    it: a true 50/50 the fusion engine sends to staff."""
    _, loc = demo.admin("POST", "/admin/locations", {
        "code": code, "name_ko": f"브라우저 무인점 {code}", "name_en": f"Browser GO {code}", "kind": "cashierless",
        "address": {"line1": "1", "city": "Seoul", "postal_code": "04799", "country": "KR"}}, expect=201)
    store = loc["location"]["id"]
    sku = earbuds_sku()
    demo.admin("POST", "/admin/inventory/receipts", {"sku": sku, "location_id": store, "quantity": 10, "reason": "browser test"}, expect=201)
    demo.admin("PUT", f"/admin/stores/{store}/layout", {
        "plates": [{"gondola": 1, "shelf": 1, "plate": 1, "sku": sku, "unit_weight_g": 500.0},
                   {"gondola": 1, "shelf": 1, "plate": 2, "sku": sku, "unit_weight_g": 500.0},
                   {"gondola": 1, "shelf": 1, "plate": 3, "sku": None}, {"gondola": 1, "shelf": 1, "plate": 4, "sku": None}],
        "facings": [{"sku": sku, "gondola": 1, "shelf": 1, "plates": [1, 2], "corner_m": [0.0, -0.4, 1.0], "size_m": [0.2, 0.4, 0.3]}]},
        expect=200)
    tokens = {}
    for kind in ["gate", "gondola", "tracker"]:
        _, dev = demo.admin("POST", f"/admin/stores/{store}/devices", {"kind": kind, "code": f"{kind}-browser"}, expect=201)
        tokens[kind] = dev["device"]["token"]

    def send(kind, events):
        _, r = demo.api("POST", "/devices/events", {"events": events}, token=tokens[kind], expect=200)
        return r["ingest"]

    for i, email in enumerate(["minji.kim@example.com", "seoyeon.park@example.com"]):
        _, c = demo.api("POST", "/store/wallet/payment-codes", token=shopper_token(email), expect=201)
        r = send("gate", [{"seq": i + 1, "type": "entry", "t": T0, "target_id": f"s{i}", "payment_code": c["payment_code"]["code"]}])
        assert r["entries"][0]["admitted"], r
    for ev in track_events(["s0", "s1"]):
        send("tracker", [ev])
    for ev in plate_events(0, T0 + 5.0, units):
        send("gondola", [ev])
    r = send("gate", [{"seq": 3, "type": "exit", "t": T0 + 12.0, "target_id": "s0"},
                      {"seq": 4, "type": "exit", "t": T0 + 12.0, "target_id": "s1"}])
    assert r["orders"] == [], r
    _, rv = demo.admin("GET", f"/admin/stores/{store}/reviews", expect=200)
    assert len(rv["reviews"]) == 1, rv
    return store


def test_resolve_review():
    store = stage_review()
    d = harness.browser()
    try:
        login(d, "owner@example.com")
        d.get(f"{demo.url}/console/live?location={store}")
        harness.wait_for(d, lambda: "검토 대기열 (1)" in harness.text(d), what="the review queue")
        SHOTS.take(d, "ko-laptop-live-review")
        harness.click(d, By.XPATH, "//button[starts-with(normalize-space(), '가져감:')]")
        flash(d, "처리했습니다")
        _, rv = demo.admin("GET", f"/admin/stores/{store}/reviews", expect=200)
        assert rv["reviews"] == [], rv
        _, orders = demo.admin("GET", f"/admin/orders?channel=cashierless&location_id={store}", expect=200)
        sold = [o for o in orders["data"] if any(l["sku"] == earbuds_sku() for l in o["lines"])]
        assert len(sold) == 1, f"one receipt has the item: {orders['data']}"
    finally:
        d.quit()


def test_split_review_between_two_shoppers():
    """Two units left while both hands were in the box: staff give one to each in one step."""
    store = stage_review(units=2, code="GO-SPLIT")
    d = harness.browser()
    try:
        login(d, "owner@example.com")
        d.get(f"{demo.url}/console/live?location={store}")
        harness.wait_for(d, lambda: "검토 대기열 (1)" in harness.text(d), what="the review queue")
        harness.click(d, By.XPATH, "//summary[normalize-space()='여러 고객에게 나누기']")
        picks = d.find_elements(By.CSS_SELECTOR, "details[open] select[name='unit']")
        assert len(picks) == 2, "one choice per unit"
        # The queue refreshes itself every 5 s, but not while staff are splitting a review.
        time.sleep(6)
        assert d.find_elements(By.CSS_SELECTOR, "details[open] select[name='unit']"), "the refresh closed the split form"
        SHOTS.take(d, "ko-laptop-live-review-split")
        harness.click(d, By.XPATH, "//details[@open]//button[normalize-space()='이대로 처리']")
        flash(d, "처리했습니다")
        _, rv = demo.admin("GET", f"/admin/stores/{store}/reviews", expect=200)
        assert rv["reviews"] == [], rv
        _, orders = demo.admin("GET", f"/admin/orders?channel=cashierless&location_id={store}", expect=200)
        units = sorted(l["quantity"] for o in orders["data"] for l in o["lines"] if l["sku"] == earbuds_sku())
        assert units == [1, 1], f"one unit on each receipt: {orders['data']}"
    finally:
        d.quit()


def test_csv_import_in_english():
    bad = "handle,title_ko,title_en,category,sku,price_krw\n" \
          "browser-mug,브라우저 머그,Browser mug,kitchen,BR-MUG-1,9000\n" \
          "browser-bad,나쁜 줄,Bad line,kitchen,BR BAD,-5\n"
    path = os.path.join(tempfile.mkdtemp(), "catalog.csv")
    open(path, "w", encoding="utf-8").write(bad)
    d = harness.browser(lang="en")
    try:
        login(d, "owner@example.com")
        # The owner's console is Korean: switch to English with the header's button.
        harness.click(d, By.CSS_SELECTOR, "header form[action='/console/lang'] button")
        harness.wait_for(d, lambda: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en", what="English")
        d.get(f"{demo.url}/console/catalog/import")
        d.find_element(By.ID, "f-file").send_keys(path)
        harness.click(d, By.XPATH, "//button[contains(., 'Check and import')]")
        body = harness.wait_for(d, lambda: "nothing was imported" in harness.text(d) and harness.text(d), what="the problems")
        rows = [r.text for r in d.find_elements(By.CSS_SELECTOR, "table tbody tr")]
        assert any(r.startswith("3 ") for r in rows), rows
        assert demo.api("GET", "/store/products/browser-mug")[0] == 404, "nothing imported"
        SHOTS.take(d, "en-laptop-import-problems")
        assert "Please" in body or "problems" in body
    finally:
        # Back to Korean for the other steps.
        try:
            harness.click(d, By.CSS_SELECTOR, "header form[action='/console/lang'] button")
        finally:
            d.quit()


SCREENS = [
    ("today", "/console"), ("orders", "/console/orders"), ("pickup", "/console/pickup"), ("till", "/console/till"),
    ("inventory", "/console/inventory"), ("inventory-low", "/console/inventory?low=1"), ("catalog", "/console/catalog"),
    ("catalog-new", "/console/catalog/new"), ("import", "/console/catalog/import"), ("customers", "/console/customers"),
    ("gift-cards", "/console/gift-cards"), ("cashierless", "/console/live"), ("settings-staff", "/console/settings"),
    ("settings-locations", "/console/settings/locations"), ("settings-keys", "/console/settings/keys"),
    ("settings-webhooks", "/console/settings/webhooks"), ("settings-rates", "/console/settings/rates"),
    ("settings-synonyms", "/console/settings/synonyms"), ("mail", "/console/mail"), ("analytics", "/console/analytics"),
    ("analytics-segments", "/console/analytics/segments"), ("chats", "/console/chats"),
]


def test_analytics_charts():
    d = harness.browser()
    try:
        login(d, "owner@example.com")
        # The CSV step before may have left the owner's console in English: back to Korean first.
        if d.find_element(By.TAG_NAME, "html").get_attribute("lang") != "ko":
            harness.click(d, By.CSS_SELECTOR, "header form[action='/console/lang'] button")
            harness.wait_for(d, lambda: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ko", what="Korean")
        d.get(f"{demo.url}/console/analytics")
        # uPlot is fetched only on a page with charts, then draws every one of them.
        harness.wait_for(d, lambda: len(d.find_elements(By.CSS_SELECTOR, ".uplot")) >= 4, what="the charts")
        body = harness.text(d)
        for title in ["채널별 매출 구성", "체류 히트맵", "매장 내 퍼널", "온라인 퍼널", "채널을 넘나드는 구매 여정"]:
            assert title in body, title
        heat = d.find_element(By.CSS_SELECTOR, "section[aria-labelledby='floor-h']")
        d.execute_script("arguments[0].scrollIntoView()", heat)
        SHOTS.take(d, "ko-laptop-analytics-heatmap")
        assert not harness.problems_in_console(d)
    finally:
        d.quit()


def test_every_screen(lang, size_name, size):
    d = harness.browser(size=size, lang=lang)
    problems = []
    try:
        login(d, "owner@example.com", lang)
        if d.find_element(By.TAG_NAME, "html").get_attribute("lang") != lang:
            harness.click(d, By.CSS_SELECTOR, "header form[action='/console/lang'] button")
            harness.wait_for(d, lambda: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang, what=lang)
        screens = list(SCREENS)
        # Detail screens: an order, a SKU, a product and a customer.
        _, orders = demo.admin("GET", "/admin/orders?limit=1", expect=200)
        screens.append(("order", f"/console/orders/{orders['data'][0]['id']}"))
        screens.append(("sku", f"/console/inventory/{earbuds_sku()}"))
        _, p = demo.api("GET", f"/store/products/{EARBUDS}", expect=200)
        screens.append(("product", f"/console/catalog/{p['product']['id']}"))
        _, cs = demo.admin("GET", "/admin/customers?q=minji", expect=200)
        screens.append(("customer", f"/console/customers/{cs['data'][0]['id']}"))
        for name, path in screens:
            d.get(demo.url + path)
            harness.wait_for(d, lambda: d.find_elements(By.TAG_NAME, "h1"), what=path)
            time.sleep(0.2)
            for p in harness.check_page(d):
                problems.append(f"{path}: {p}")
            for m in harness.problems_in_console(d):
                problems.append(f"{path}: browser error: {m}")
            SHOTS.take(d, f"{lang}-{size_name}-{name}")
        # Signing out ends the session.
        d.get(demo.url + "/console")
        harness.click(d, By.CSS_SELECTOR, "header form[action='/console/logout'] button")
        harness.wait_for(d, lambda: "/console/login" in d.current_url, what="the sign-in page")
        d.get(demo.url + "/console/orders")
        assert "/console/login" in d.current_url
    finally:
        d.quit()
    assert not problems, "\n".join(problems)


try:
    suite.step("sign-in refused with the reason, in Korean", test_login_errors)
    suite.step("find an order and hand it over with the shopper's code", test_pickup_handover)
    suite.step("a till sale paid by the shopper's one-time wallet QR", test_till_wallet_qr)
    suite.step("a stock adjustment and a transfer (and a bad quantity)", test_stock_adjust_and_transfer)
    suite.step("resolve a cashierless review in one click", test_resolve_review)
    suite.step("split a cashierless review between two shoppers", test_split_review_between_two_shoppers)
    suite.step("a CSV import with one bad line, in English", test_csv_import_in_english)
    suite.step("the analytics dashboard draws its charts, the heatmap among them", test_analytics_charts)
    for lang in ["ko", "en"]:
        for size_name, size in [("phone", harness.PHONE), ("laptop", harness.LAPTOP)]:
            suite.step(f"every screen, {lang}, {size_name}", test_every_screen, lang, size_name, size)
finally:
    print(f"{SHOTS.count} screenshots in {SHOTS.dir}")
    demo.stop()
suite.finish()
