//! Sample datasets bundled into the binary, loadable with one click.

pub struct Sample {
    pub name: &'static str,
    pub description: &'static str,
    pub target: &'static str,
    pub bytes: &'static [u8],
}

pub const SAMPLES: &[Sample] = &[
    Sample {
        name: "penguins",
        description: "344 penguins from three islands: predict the species from bill and flipper measurements (multiclass, missing values).",
        target: "species",
        bytes: include_bytes!("../../assets/samples/penguins.csv"),
    },
    Sample {
        name: "diamonds",
        description: "53,940 diamonds: predict the price from carat, cut, colour and clarity (regression).",
        target: "price",
        bytes: include_bytes!("../../assets/samples/diamonds.csv"),
    },
    Sample {
        name: "german_credit",
        description: "1,000 loan applicants: predict credit risk from mostly categorical answers (binary).",
        target: "creditability",
        bytes: include_bytes!("../../assets/samples/german_credit.csv"),
    },
    Sample {
        name: "breast_cancer",
        description: "569 tumour biopsies with 30 measurements: predict the diagnosis (binary).",
        target: "diagnosis",
        bytes: include_bytes!("../../assets/samples/breast_cancer.csv"),
    },
    Sample {
        name: "diabetes",
        description: "442 patients: predict disease progression after one year (regression).",
        target: "progression",
        bytes: include_bytes!("../../assets/samples/diabetes.csv"),
    },
    Sample {
        name: "seattle_weather",
        description: "Four years of Seattle daily weather: predict the kind of day (multiclass, imbalanced, dates).",
        target: "weather",
        bytes: include_bytes!("../../assets/samples/seattle_weather.csv"),
    },
    Sample {
        name: "us_macro_quarterly",
        description: "12 US macroeconomic series by quarter, 1959–2009, in long format (series, quarter, value): forecast them all at once (forecasting).",
        target: "value",
        bytes: include_bytes!("../../assets/samples/us_macro_quarterly.csv"),
    },
    Sample {
        name: "airpassengers",
        description: "Monthly airline passengers, 1949–1960: one series with a trend and a growing season (forecasting).",
        target: "passengers",
        bytes: include_bytes!("../../assets/samples/airpassengers.csv"),
    },
    Sample {
        name: "bike_sharing_daily",
        description: "Daily bike rentals in Washington, D.C., 2011–2012, with the day's holiday, working-day and weather columns; the last 14 days have the covariates but no count (forecasting with known covariates).",
        target: "cnt",
        bytes: include_bytes!("../../assets/samples/bike_sharing_daily.csv"),
    },
];

pub fn find(name: &str) -> Option<&'static Sample> {
    SAMPLES.iter().find(|s| s.name == name)
}
