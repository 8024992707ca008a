//! Closed sets of named values a person picks by name (a feed mode, a precision): each
//! library lists its own once, and the tools' value parser (vrd-cli's `choice`) and any
//! text that names one read that list.

/// One value of a [`Named`] set.
#[derive(Debug)]
pub struct Choice<T: 'static> {
    pub value: T,
    /// The name a person types and reads.
    pub name: &'static str,
    /// Other names accepted for it.
    pub aliases: &'static [&'static str],
    /// A line of help ("" for none).
    pub help: &'static str,
}

pub trait Named: Copy + PartialEq + 'static {
    /// Every value, in the order they are listed to a person.
    const ALL: &'static [Choice<Self>];

    /// The value with this name or alias.
    fn named(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|c| c.name == name || c.aliases.contains(&name)).map(|c| c.value)
    }

    /// The value's name.
    fn name(self) -> &'static str {
        Self::ALL.iter().find(|c| c.value == self).map_or("?", |c| c.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Size {
        Small,
        Large,
    }

    impl Named for Size {
        const ALL: &'static [Choice<Self>] = &[
            Choice { value: Size::Small, name: "small", aliases: &["s"], help: "" },
            Choice { value: Size::Large, name: "large", aliases: &[], help: "" },
        ];
    }

    #[test]
    fn values_are_found_by_name_or_alias_and_named_back() {
        assert_eq!(Size::named("small"), Some(Size::Small));
        assert_eq!(Size::named("s"), Some(Size::Small));
        assert_eq!(Size::named("large"), Some(Size::Large));
        assert_eq!(Size::named("Large"), None);
        assert_eq!(Size::Large.name(), "large");
    }
}
