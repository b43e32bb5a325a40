//! The states of the hub's documents as types: a leg, a departure, a pledge,
//! a request, a hub transfer and a lot's expiry. Each has a stable code (the
//! text the database stores for departures, the CLI prints and the API
//! returns), read back with `parse`. The operations layer decides a state in
//! one place; the edges render its code.

macro_rules! statuses {
    ($(#[$doc:meta])* $name:ident { $($variant:ident => $code:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($variant,)*
        }

        impl $name {
            /// Every state, in the order of the document's life.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The stable code: stored, printed and returned as is.
            pub fn as_code(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)*
                }
            }

            /// The state of a code, if it is one.
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $($code => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_code())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_code())
            }
        }
    };
}

statuses! {
    /// An inbound leg: registered, its manifest imported, received in part,
    /// received.
    LegStatus {
        Expected => "expected",
        Manifested => "manifested",
        PartlyReceived => "partly received",
        Received => "received",
    }
}

statuses! {
    /// An outbound departure (stored in `departures.status`): scheduled
    /// with nothing on board, loaded, left the hub, delivered; or
    /// cancelled before it left.
    DepartureStatus {
        Open => "open",
        Loaded => "loaded",
        Departed => "departed",
        Delivered => "delivered",
        Cancelled => "cancelled",
    }
}

statuses! {
    /// A pledge: something still outstanding, all of it received, or its
    /// outstanding part cancelled.
    PledgeStatus {
        Open => "open",
        Fulfilled => "fulfilled",
        Cancelled => "cancelled",
    }
}

statuses! {
    /// A request, derived from what was loaded and delivered for it.
    RequestStatus {
        Open => "open",
        Planned => "planned",
        PartlyMet => "partly met",
        Met => "met",
        Cancelled => "cancelled",
    }
}

statuses! {
    /// A transfer between the hub's nodes: on the road, or arrived.
    TransferStatus {
        InTransit => "in transit",
        Arrived => "arrived",
    }
}

statuses! {
    /// A stored dispatch plan (`plans.status`): proposed, or accepted (its
    /// loads made).
    PlanStatus {
        Proposed => "proposed",
        Accepted => "accepted",
    }
}

statuses! {
    /// Where the hub's stock of a lot is: at a node (available or in
    /// quarantine), on a hub transfer dispatched and not arrived, or loaded
    /// on a departure that has not left.
    StockState {
        Available => "available",
        Quarantine => "quarantine",
        InTransit => "in transit",
        Loaded => "loaded",
    }
}

statuses! {
    /// A lot's expiry on a day: expired, or expiring within the window
    /// asked for.
    ExpiryState {
        Expired => "expired",
        Expiring => "expiring",
    }
}

impl LegStatus {
    /// A leg's state from its manifest's line count and the lines received.
    pub fn of(manifest_lines: i64, received_lines: i64) -> LegStatus {
        if manifest_lines == 0 {
            LegStatus::Expected
        } else if received_lines == 0 {
            LegStatus::Manifested
        } else if received_lines < manifest_lines {
            LegStatus::PartlyReceived
        } else {
            LegStatus::Received
        }
    }
}

impl PledgeStatus {
    /// A pledge's state from its cancellation and what is outstanding.
    pub fn of(cancelled: bool, outstanding: i64) -> PledgeStatus {
        if cancelled {
            PledgeStatus::Cancelled
        } else if outstanding == 0 {
            PledgeStatus::Fulfilled
        } else {
            PledgeStatus::Open
        }
    }
}

impl RequestStatus {
    /// A request's state from its cancellation and the units loaded (on
    /// departures not yet delivered) and delivered for it.
    pub fn of(cancelled: bool, quantity: i64, loaded: i64, delivered: i64) -> RequestStatus {
        if cancelled {
            RequestStatus::Cancelled
        } else if delivered >= quantity {
            RequestStatus::Met
        } else if delivered > 0 {
            RequestStatus::PartlyMet
        } else if loaded > 0 {
            RequestStatus::Planned
        } else {
            RequestStatus::Open
        }
    }
}

impl TransferStatus {
    pub fn of(arrived: bool) -> TransferStatus {
        if arrived {
            TransferStatus::Arrived
        } else {
            TransferStatus::InTransit
        }
    }
}

impl ExpiryState {
    /// Expired when no day is left.
    pub fn of(days_left: i64) -> ExpiryState {
        if days_left < 0 {
            ExpiryState::Expired
        } else {
            ExpiryState::Expiring
        }
    }
}

impl DepartureStatus {
    /// Whether the departure still takes cargo (open or loaded).
    pub fn takes_cargo(self) -> bool {
        matches!(self, DepartureStatus::Open | DepartureStatus::Loaded)
    }

    /// Whether the departure has left the hub (departed or delivered).
    pub fn has_left(self) -> bool {
        matches!(self, DepartureStatus::Departed | DepartureStatus::Delivered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code reads back as its state, and codes are distinct: the
    /// text stored and returned is a stable name of one state.
    #[test]
    fn codes_read_back() {
        fn check<T: Copy + PartialEq + std::fmt::Debug>(
            all: &[T],
            code: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            for &s in all {
                assert_eq!(parse(code(s)), Some(s), "{s:?}");
            }
            let mut codes: Vec<_> = all.iter().map(|&s| code(s)).collect();
            codes.sort();
            codes.dedup();
            assert_eq!(codes.len(), all.len());
            assert_eq!(parse("no such state"), None);
        }
        check(LegStatus::ALL, LegStatus::as_code, LegStatus::parse);
        check(
            DepartureStatus::ALL,
            DepartureStatus::as_code,
            DepartureStatus::parse,
        );
        check(
            PledgeStatus::ALL,
            PledgeStatus::as_code,
            PledgeStatus::parse,
        );
        check(
            RequestStatus::ALL,
            RequestStatus::as_code,
            RequestStatus::parse,
        );
        check(
            TransferStatus::ALL,
            TransferStatus::as_code,
            TransferStatus::parse,
        );
        check(ExpiryState::ALL, ExpiryState::as_code, ExpiryState::parse);
    }

    /// The codes the database and the API already hold keep their text.
    #[test]
    fn codes_are_the_stored_texts() {
        let table: &[(&str, &str)] = &[
            (DepartureStatus::Open.as_code(), "open"),
            (DepartureStatus::Loaded.as_code(), "loaded"),
            (DepartureStatus::Departed.as_code(), "departed"),
            (DepartureStatus::Delivered.as_code(), "delivered"),
            (RequestStatus::PartlyMet.as_code(), "partly met"),
            (LegStatus::PartlyReceived.as_code(), "partly received"),
            (TransferStatus::InTransit.as_code(), "in transit"),
            (PledgeStatus::Fulfilled.as_code(), "fulfilled"),
            (ExpiryState::Expiring.as_code(), "expiring"),
        ];
        for (code, text) in table {
            assert_eq!(code, text);
        }
    }

    #[test]
    fn states_of_figures() {
        assert_eq!(LegStatus::of(0, 0), LegStatus::Expected);
        assert_eq!(LegStatus::of(3, 0), LegStatus::Manifested);
        assert_eq!(LegStatus::of(3, 1), LegStatus::PartlyReceived);
        assert_eq!(LegStatus::of(3, 3), LegStatus::Received);
        assert_eq!(PledgeStatus::of(true, 5), PledgeStatus::Cancelled);
        assert_eq!(PledgeStatus::of(false, 0), PledgeStatus::Fulfilled);
        assert_eq!(PledgeStatus::of(false, 5), PledgeStatus::Open);
        assert_eq!(RequestStatus::of(true, 10, 0, 10), RequestStatus::Cancelled);
        assert_eq!(RequestStatus::of(false, 10, 0, 10), RequestStatus::Met);
        assert_eq!(RequestStatus::of(false, 10, 5, 3), RequestStatus::PartlyMet);
        assert_eq!(RequestStatus::of(false, 10, 5, 0), RequestStatus::Planned);
        assert_eq!(RequestStatus::of(false, 10, 0, 0), RequestStatus::Open);
        assert_eq!(TransferStatus::of(false), TransferStatus::InTransit);
        assert_eq!(ExpiryState::of(-1), ExpiryState::Expired);
        assert_eq!(ExpiryState::of(0), ExpiryState::Expiring);
    }
}
