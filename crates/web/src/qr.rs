//! QR codes drawn on the server as SVG (a pickup code for the desk, a payment request for a shopper's app),
//! embedded as `data:` images so they pass the Content-Security-Policy and print with the page.

use maud::{html, Markup};

/// An `<img>` of a QR code for `text`, with `alt` saying what it holds for people who cannot scan it.
pub fn image(text: &str, alt: &str) -> Markup {
    let svg = match qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(240, 240)
            .quiet_zone(true)
            .dark_color(qrcode::render::svg::Color("#000000"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .build(),
        Err(_) => return html! { p.alert.bad { (alt) } },
    };
    let data = format!("data:image/svg+xml;base64,{}", base64(svg.as_bytes()));
    html! { span.qr { img src=(data) alt=(alt) width="240" height="240"; } }
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(super::base64(b"Man"), "TWFu");
        assert_eq!(super::base64(b"Ma"), "TWE=");
        assert_eq!(super::base64(b"M"), "TQ==");
        let img = super::image("123456", "Pickup code 123456").into_string();
        assert!(img.starts_with("<span class=\"qr\"><img src=\"data:image/svg+xml;base64,"), "{img}");
    }
}
