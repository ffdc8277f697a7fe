//! Orders: channels, fulfillment types, payment methods and the order state machine. A transition not
//! listed in [`OrderStatus::can_become`] is refused, so no caller can skip a step.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Web,
    Pos,
    Cashierless,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::Pos => "pos",
            Channel::Cashierless => "cashierless",
        }
    }

    /// The channel named `s` (`web`, `pos`, `cashierless`).
    pub fn parse(s: &str) -> Result<Channel, String> {
        [Channel::Web, Channel::Pos, Channel::Cashierless]
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| format!("`channel` is web, pos or cashierless, got `{s}`"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FulfillmentType {
    Delivery,
    Pickup,
    InStore,
}

impl FulfillmentType {
    pub fn as_str(self) -> &'static str {
        match self {
            FulfillmentType::Delivery => "delivery",
            FulfillmentType::Pickup => "pickup",
            FulfillmentType::InStore => "in_store",
        }
    }
}

/// How an order is paid. Wallet, gift card and card providers plug in behind the same names later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentMethod {
    PayAtPickup,
    PayInStore,
    Manual,
}

impl PaymentMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::PayAtPickup => "pay_at_pickup",
            PaymentMethod::PayInStore => "pay_in_store",
            PaymentMethod::Manual => "manual",
        }
    }
    pub fn parse(s: &str) -> Result<PaymentMethod, String> {
        match s {
            "pay_at_pickup" => Ok(PaymentMethod::PayAtPickup),
            "pay_in_store" => Ok(PaymentMethod::PayInStore),
            "manual" => Ok(PaymentMethod::Manual),
            _ => Err(format!("payment method must be pay_at_pickup, pay_in_store or manual, got `{s}`")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    /// Stock is reserved; nothing has left a shelf.
    Placed,
    /// Picked and waiting at the pickup desk; a pickup code is issued.
    ReadyForPickup,
    /// Handed over at the desk; the reservation became a sale.
    PickedUp,
    /// Left the building for delivery; the reservation became a sale.
    Shipped,
    /// Sold at a counter or through a cashierless exit.
    Completed,
    /// Cancelled by staff or the shopper before handover; stock released.
    Cancelled,
    /// Not collected in time; stock released.
    Expired,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Placed => "placed",
            OrderStatus::ReadyForPickup => "ready_for_pickup",
            OrderStatus::PickedUp => "picked_up",
            OrderStatus::Shipped => "shipped",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
            OrderStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Result<OrderStatus, String> {
        use OrderStatus::*;
        [Placed, ReadyForPickup, PickedUp, Shipped, Completed, Cancelled, Expired]
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| format!("unknown order status `{s}`"))
    }

    /// The order state machine.
    pub fn can_become(self, next: OrderStatus, fulfillment: FulfillmentType) -> bool {
        use OrderStatus::*;
        match (self, next) {
            (Placed, ReadyForPickup) => fulfillment == FulfillmentType::Pickup,
            (ReadyForPickup, PickedUp) => true,
            (Placed, Shipped) => fulfillment == FulfillmentType::Delivery,
            (Placed | ReadyForPickup, Cancelled) => true,
            // A pickup not collected in time; an unpaid (staff-taken `manual`) delivery not shipped in time.
            (Placed, Expired) => true,
            (ReadyForPickup, Expired) => fulfillment == FulfillmentType::Pickup,
            _ => false,
        }
    }

    /// Whether items of an order in this state have been handed to the shopper and can come back.
    pub fn is_returnable(self) -> bool {
        matches!(self, OrderStatus::PickedUp | OrderStatus::Shipped | OrderStatus::Completed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pickup_flow_is_enforced() {
        let p = FulfillmentType::Pickup;
        assert!(OrderStatus::Placed.can_become(OrderStatus::ReadyForPickup, p));
        assert!(OrderStatus::ReadyForPickup.can_become(OrderStatus::PickedUp, p));
        assert!(!OrderStatus::Placed.can_become(OrderStatus::PickedUp, p));
        assert!(!OrderStatus::PickedUp.can_become(OrderStatus::Cancelled, p));
        assert!(!OrderStatus::Placed.can_become(OrderStatus::ReadyForPickup, FulfillmentType::Delivery));
        assert!(OrderStatus::ReadyForPickup.can_become(OrderStatus::Expired, p));
    }
}
