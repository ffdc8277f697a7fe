//! The domain of borderless: validated value types (money, SKUs, quantities, ids) and the state machines of
//! orders, reservations and pickups. Pure rules: no I/O, no async, no wire formats.

pub mod country;
pub mod ids;
pub mod money;
pub mod order;
pub mod stock;
pub mod text;
pub mod time;

pub use money::{Currency, Money, MoneyError};
pub use order::{Channel, FulfillmentType, OrderStatus, PaymentMethod};
pub use stock::{LocationKind, MovementKind, Qty, Sku};
