//! Typed value parsers: one parser per kind of value for every tool, so a bad time, zone
//! or mode reads the same everywhere and is a usage error (exit 2).

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use vrd_core::choice::Named;

/// A time option (`--at`, `--since`…): RFC 3339 with a zone, as UTC.
pub fn time_arg(s: &str) -> Result<vrd_core::time::Timestamp, String> {
    vrd_core::time::parse_rfc3339(s).map_err(|e| e.to_string())
}

/// A length of time: `6h`, `90m`, `1800s`, `1d`.
pub fn duration_arg(s: &str) -> Result<chrono::Duration, String> {
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num.parse().map_err(|_| format!("{s:?}: expected a number and a unit, like 6h"))?;
    let d = match unit {
        "s" => chrono::Duration::seconds(n),
        "m" => chrono::Duration::minutes(n),
        "h" => chrono::Duration::hours(n),
        "d" => chrono::Duration::days(n),
        _ => return Err(format!("{s:?}: unit must be s, m, h or d")),
    };
    if n <= 0 {
        return Err(format!("{s:?}: the window must be longer than zero"));
    }
    Ok(d)
}

/// `--timezone`: an IANA name, so a misspelt zone is a usage error in every tool.
pub fn timezone_arg(s: &str) -> Result<vrd_core::time::Tz, String> {
    vrd_core::time::parse_timezone(s).map_err(|e| e.to_string())
}

/// A finite number ≥ 0 (a margin, a weight).
pub fn non_negative_f64(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        Ok(_) => Err(format!("`{s}` is not a finite number ≥ 0")),
        Err(e) => Err(format!("`{s}`: {e}")),
    }
}

/// One of a library's named choices (a feed mode, a precision), by name or alias, with
/// the names and their help listed in `--help` and in the error for a wrong one.
pub fn choice<T: Named + Send + Sync>() -> impl TypedValueParser<Value = T> {
    let listed = T::ALL.iter().map(|choice| {
        let value = PossibleValue::new(choice.name).aliases(choice.aliases.iter().copied());
        if choice.help.is_empty() {
            value
        } else {
            value.help(choice.help)
        }
    });
    // The parser above accepts only the listed names and aliases, so the lookup finds one.
    PossibleValuesParser::new(listed).map(|name| T::named(&name).expect("a listed name"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vrd_core::choice::Choice;

    #[test]
    fn non_negative_numbers_only() {
        assert_eq!(non_negative_f64("0"), Ok(0.0));
        assert_eq!(non_negative_f64("1.5"), Ok(1.5));
        for bad in ["-1", "inf", "NaN", "one"] {
            assert!(non_negative_f64(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn lengths_of_time_need_a_unit_and_a_positive_number() {
        assert_eq!(duration_arg("90m"), Ok(chrono::Duration::minutes(90)));
        assert_eq!(duration_arg("1d"), Ok(chrono::Duration::days(1)));
        for bad in ["6", "0h", "h", "6w", "-1h"] {
            assert!(duration_arg(bad).is_err(), "{bad}");
        }
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Speed {
        Slow,
        Fast,
    }

    impl Named for Speed {
        const ALL: &'static [Choice<Self>] = &[
            Choice { value: Speed::Slow, name: "slow", aliases: &["lazy"], help: "" },
            Choice { value: Speed::Fast, name: "fast", aliases: &[], help: "as fast as it goes" },
        ];
    }

    #[derive(clap::Parser, Debug)]
    struct Cli {
        #[arg(long, value_parser = choice::<Speed>(), default_value = "slow")]
        speed: Speed,
    }

    #[test]
    fn choices_parse_by_name_and_alias_and_list_themselves() {
        use clap::Parser;
        assert_eq!(Cli::try_parse_from(["t"]).unwrap().speed, Speed::Slow);
        assert_eq!(Cli::try_parse_from(["t", "--speed", "fast"]).unwrap().speed, Speed::Fast);
        assert_eq!(Cli::try_parse_from(["t", "--speed", "lazy"]).unwrap().speed, Speed::Slow);
        let err = Cli::try_parse_from(["t", "--speed", "warp"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::InvalidValue);
        assert!(err.to_string().contains("[possible values: slow, fast]"), "{err}");
        let mut cmd = <Cli as clap::CommandFactory>::command();
        let help = cmd.render_long_help().to_string();
        assert!(help.contains("as fast as it goes"), "{help}");
    }
}
