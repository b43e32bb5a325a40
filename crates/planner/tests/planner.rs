//! End-to-end tests of the planner library: examples, bad input, agreement
//! with the reference checker, properties on generated instances.

use std::path::PathBuf;
use std::time::Duration;

use proptest::prelude::*;
use reliefhub_planner::check::check_plan_json;
use reliefhub_planner::generate::{generate_json, GenerateConfig};
use reliefhub_planner::{plan, solve, Clock, Instance, Plan, SolveOptions};
use serde_json::{json, Value};

struct NoClock;

impl Clock for NoClock {
    fn elapsed(&self) -> Duration {
        Duration::ZERO
    }
}

fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// A shared planning example; the repository's tests are run beside the
/// shared reference material, and a missing example fails the test.
fn example(name: &str) -> String {
    let path = shared().join("examples/plan").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "{}: {error}; the planner tests need the shared reference material \
             (examples/plan and tools/check_plan.py) beside the repository",
            path.display()
        )
    })
}

fn run(instance: &Instance, moves: u64, seed: u64) -> Plan {
    let options = SolveOptions {
        seed,
        time_limit: None,
        max_moves: Some(moves),
        bound_iterations: Some(300),
        cores: None,
    };
    solve(instance, &options, &NoClock, &mut |_| {})
}

#[test]
fn tiny_reaches_the_proven_optimum() {
    let text = example("tiny.json");
    let instance = Instance::from_json(&text).expect("tiny.json is valid");
    let plan = run(&instance, 2_000, 1);
    assert!(
        (plan.objective - 71_173.6).abs() < 1e-6,
        "objective {}",
        plan.objective
    );
    let bound = plan.upper_bound.expect("a bound");
    assert!(bound >= 71_173.6 - 1e-6, "bound {bound}");
    let report = check_plan_json(&instance, &plan::to_json(&instance, &plan), Some(71_173.6))
        .expect("readable");
    assert!(report.is_feasible(), "{:?}", report.violations);
    // One lot expires too early, the charter does not pay, the vaccines lack cold space.
    assert!(!plan.unmet.is_empty());
}

/// The bound, iterated until it settles, never falls below the best plans
/// known for the shared examples (a MIP solver's) or for the generated S
/// instance (its proven optimum, 1,154,754.9 within 0.01 %).
#[test]
fn converged_bound_stays_above_the_best_known_plans() {
    let mut cases: Vec<(Instance, f64)> = Vec::new();
    cases.push((
        Instance::from_json(&example("small.json")).expect("small.json is valid"),
        1_475_188.48,
    ));
    let s = generate_json(&GenerateConfig::for_size(
        reliefhub_planner::generate::Size::S,
        1,
    ));
    cases.push((
        Instance::from_json(&s).expect("generated S is valid"),
        1_154_754.9,
    ));
    for (instance, best_known) in cases {
        let options = SolveOptions {
            seed: 1,
            time_limit: None,
            max_moves: Some(200),
            bound_iterations: None,
            // Fewer cores than threads: the throttled bound (which, with no
            // clock, never rests) must still be valid.
            cores: Some(1),
        };
        let plan = solve(&instance, &options, &NoClock, &mut |_| {});
        let bound = plan.upper_bound.expect("a bound");
        assert!(
            bound >= best_known,
            "{}: bound {bound} below the best known {best_known}",
            instance.name
        );
        assert!(bound >= plan.objective);
    }
}

/// A panic in the caller's progress callback, while two searches run side by
/// side, reaches the caller instead of leaving the other search waiting for a
/// meeting that never comes.
#[test]
fn a_panicking_progress_callback_ends_the_solve() {
    let text = generate_json(&GenerateConfig::for_size(
        reliefhub_planner::generate::Size::S,
        1,
    ));
    let instance = Instance::from_json(&text).expect("generated S is valid");
    let (done, finished) = std::sync::mpsc::channel();
    let worker = std::thread::spawn(move || {
        let options = SolveOptions {
            seed: 1,
            time_limit: None,
            max_moves: Some(200_000),
            bound_iterations: Some(300),
            cores: None,
        };
        let mut reports = 0;
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            solve(&instance, &options, &NoClock, &mut |_| {
                reports += 1;
                if reports == 3 {
                    panic!("the progress display failed");
                }
            })
        }));
        let _ = done.send(outcome.is_err());
    });
    let panicked = finished
        .recv_timeout(Duration::from_secs(120))
        .expect("the solve ended within two minutes of its callback panicking");
    assert!(panicked, "the callback's panic reached the caller");
    worker.join().expect("the worker thread ends");
}

/// With a move budget, an instance where no departure can serve any request
/// (here: the only one arrives after the deadline and its grace) ends at once
/// with the empty plan instead of waiting for moves that never come.
#[test]
fn nothing_to_plan_ends_with_the_empty_plan() {
    let mut value = base();
    value["requests"][0]["needed_by"] = json!("2026-12-01");
    value["requests"][0]["grace_days"] = json!(0);
    let instance = Instance::from_json(&value.to_string()).expect("valid");
    let plan = run(&instance, 1_000_000, 1);
    assert!(plan.allocations.is_empty());
    assert_eq!(plan.objective, 0.0);
    assert_eq!(plan.unmet.len(), 1);
}

/// A small valid instance to break in the table below.
fn base() -> Value {
    json!({
        "format": "reliefhub-plan-instance/1", "name": "base",
        "nodes": [{"id": "PORT", "kind": "port"}, {"id": "AIR", "kind": "airport"}],
        "transfers": [{"from": "PORT", "to": "AIR", "days": 1}],
        "items": [{"id": "HEB", "name": "biscuits", "unit_weight_kg": 10.4, "unit_volume_m3": 0.031,
                   "cold_chain": false, "dangerous_goods": false, "min_shelf_life_days": 90}],
        "lots": [{"id": "L1", "item": "HEB", "node": "PORT", "quantity": 120, "pack_size": 60,
                  "available": "2026-12-01", "expires": null, "earmark": []}],
        "departures": [{"id": "D1", "node": "AIR", "mode": "air", "destination": "SDPZU",
                        "departs": "2026-12-05", "arrives": "2026-12-05", "payload_kg": 40000,
                        "volume_m3": 180, "cold_volume_m3": 8, "dangerous_goods": true,
                        "fixed_cost": 0, "cost_per_kg": 0.5}],
        "requests": [{"id": "R1", "destination": "SDPZU", "item": "HEB", "quantity": 100,
                      "value_per_unit": 42.0, "needed_by": "2026-12-10", "grace_days": 14}]
    })
}

#[test]
fn bad_input_names_the_object_and_field() {
    assert!(Instance::from_json(&base().to_string()).is_ok());
    type Edit = fn(&mut Value);
    let table: &[(&str, Edit, &[&str])] = &[
        (
            "wrong format tag",
            |v| v["format"] = json!("reliefhub-plan-instance/9"),
            &["instance", "format", "reliefhub-plan-instance/9"],
        ),
        (
            "unknown item",
            |v| v["lots"][0]["item"] = json!("XXX"),
            &["lots[0] \"L1\"", "item", "unknown item \"XXX\""],
        ),
        (
            "unknown node",
            |v| v["departures"][0]["node"] = json!("MOON"),
            &["departures[0] \"D1\"", "node", "MOON"],
        ),
        (
            "unknown request item",
            |v| v["requests"][0]["item"] = json!("TENT"),
            &["requests[0] \"R1\"", "item", "TENT"],
        ),
        (
            "not a multiple of the pack",
            |v| v["lots"][0]["quantity"] = json!(130),
            &[
                "lots[0] \"L1\"",
                "quantity",
                "not a multiple of pack_size 60",
            ],
        ),
        (
            "negative capacity",
            |v| v["departures"][0]["payload_kg"] = json!(-1),
            &["departures[0] \"D1\"", "payload_kg", ">= 0"],
        ),
        (
            "unparsable date",
            |v| v["lots"][0]["available"] = json!("2026-13-01"),
            &["lots[0] \"L1\"", "available", "2026-13-01"],
        ),
        (
            "duplicate id",
            |v| {
                let lot = v["lots"][0].clone();
                if let Some(a) = v["lots"].as_array_mut() {
                    a.push(lot);
                }
            },
            &["lots[1] \"L1\"", "id", "duplicate"],
        ),
        (
            "fractional quantity",
            |v| v["requests"][0]["quantity"] = json!(2.5),
            &["requests[0] \"R1\"", "quantity", "integer"],
        ),
        (
            "missing field",
            |v| {
                v["items"][0]
                    .as_object_mut()
                    .map(|o| o.remove("unit_weight_kg"));
            },
            &["items[0] \"HEB\"", "unit_weight_kg", "missing"],
        ),
        (
            "zero weight",
            |v| v["items"][0]["unit_weight_kg"] = json!(0),
            &["items[0] \"HEB\"", "unit_weight_kg", "> 0"],
        ),
        (
            "arrives before departs",
            |v| v["departures"][0]["arrives"] = json!("2026-12-01"),
            &["departures[0] \"D1\"", "arrives", "before"],
        ),
        (
            "negative grace",
            |v| v["requests"][0]["grace_days"] = json!(-3),
            &["requests[0] \"R1\"", "grace_days"],
        ),
        (
            "zero value",
            |v| v["requests"][0]["value_per_unit"] = json!(0),
            &["requests[0] \"R1\"", "value_per_unit"],
        ),
        (
            "unknown transfer node",
            |v| v["transfers"][0]["to"] = json!("DOCK"),
            &["transfers[0]", "to", "DOCK"],
        ),
        (
            "lots not a list",
            |v| v["lots"] = json!({}),
            &["instance", "lots", "list"],
        ),
        (
            "earmark not a list",
            |v| v["lots"][0]["earmark"] = json!("SD"),
            &["lots[0] \"L1\"", "earmark"],
        ),
    ];
    for (what, edit, fragments) in table {
        let mut value = base();
        edit(&mut value);
        let error = Instance::from_json(&value.to_string()).expect_err(what);
        let message = error.to_string();
        for fragment in *fragments {
            assert!(
                message.contains(fragment),
                "{what}: {message:?} lacks {fragment:?}"
            );
        }
    }
    for text in [
        "",
        "{",
        "[1, 2]",
        "{\"format\": \"reliefhub-plan-instance/1\",}",
        "null",
    ] {
        assert!(
            Instance::from_json(text).is_err(),
            "{text:?} must be rejected"
        );
    }
}

fn python_verdict(
    instance_path: &std::path::Path,
    plan_text: &str,
    dir: &std::path::Path,
    k: usize,
) -> Option<(bool, f64)> {
    let plan_path = dir.join(format!("plan-{k}.json"));
    std::fs::write(&plan_path, plan_text).ok()?;
    let output = std::process::Command::new("python3")
        .arg(shared().join("tools/check_plan.py"))
        .arg(instance_path)
        .arg(&plan_path)
        .arg("--json")
        .output()
        .ok()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: Value = serde_json::from_str(stdout.lines().last()?).ok()?;
    Some((
        output.status.code() == Some(0),
        summary["objective"].as_f64()?,
    ))
}

/// Broken variants of a good plan, each breaking one rule.
fn broken_variants(good: &str) -> Vec<String> {
    let Ok(value) = serde_json::from_str::<Value>(good) else {
        return Vec::new();
    };
    let mut variants = Vec::new();
    let mut edit = |f: &dyn Fn(&mut Value)| {
        let mut v = value.clone();
        f(&mut v);
        variants.push(v.to_string());
    };
    edit(&|v| v["objective"] = json!(v["objective"].as_f64().unwrap_or(0.0) + 1.0));
    edit(&|v| v["upper_bound"] = json!(v["objective"].as_f64().unwrap_or(0.0) - 100.0));
    edit(&|v| v["format"] = json!("reliefhub-plan/0"));
    edit(&|v| {
        v.as_object_mut().map(|o| o.remove("objective"));
    });
    edit(&|v| {
        v.as_object_mut().map(|o| o.remove("upper_bound"));
    });
    if value["allocations"]
        .as_array()
        .is_some_and(|a| !a.is_empty())
    {
        edit(&|v| {
            v["allocations"][0]["quantity"] =
                json!(v["allocations"][0]["quantity"].as_i64().unwrap_or(1) + 1)
        });
        edit(&|v| v["allocations"][0]["quantity"] = json!(1_000_000));
        edit(&|v| v["allocations"][0]["quantity"] = json!(0));
        edit(&|v| v["allocations"][0]["quantity"] = json!(2.0));
        edit(&|v| v["allocations"][0]["lot"] = json!("NO-SUCH-LOT"));
        edit(&|v| {
            v["allocations"][0]
                .as_object_mut()
                .map(|o| o.remove("request"));
        });
        edit(&|v| {
            let a = v["allocations"][0].clone();
            if let Some(l) = v["allocations"].as_array_mut() {
                l.push(a);
            }
        });
        // Another departure and another request for the first allocation.
        for index in [1usize, 2, 3] {
            edit(&|v| {
                let other = v["allocations"]
                    .as_array()
                    .and_then(|a| a.get(index % a.len()).cloned());
                if let Some(other) = other {
                    v["allocations"][0]["departure"] = other["departure"].clone();
                }
            });
            edit(&|v| {
                let other = v["allocations"]
                    .as_array()
                    .and_then(|a| a.get(index % a.len()).cloned());
                if let Some(other) = other {
                    v["allocations"][0]["request"] = other["request"].clone();
                }
            });
        }
    }
    edit(&|v| v["allocations"] = json!([]));
    variants
}

#[test]
fn checker_agrees_with_the_reference_checker() {
    let python = std::process::Command::new("python3")
        .arg("--version")
        .output();
    assert!(
        python.is_ok(),
        "python3 is needed to run the reference checker (apt-get install python3)"
    );
    let reference = shared().join("tools/check_plan.py");
    assert!(
        reference.exists(),
        "{} is missing: the planner tests need the shared reference material beside the repository",
        reference.display()
    );
    let dir = std::env::temp_dir().join(format!("reliefhub-planner-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let mut instances: Vec<(String, PathBuf)> = Vec::new();
    for name in ["tiny.json", "small.json"] {
        instances.push((name.to_string(), shared().join("examples/plan").join(name)));
    }
    for seed in 1..=2 {
        let config = GenerateConfig {
            seed,
            lots: 60,
            departures: 10,
            requests: 30,
            destinations: 5,
            horizon_days: 20,
            name: format!("g{seed}"),
        };
        let path = dir.join(format!("generated-{seed}.json"));
        std::fs::write(&path, generate_json(&config)).expect("write instance");
        instances.push((format!("generated {seed}"), path));
    }
    let mut k = 0;
    for (name, path) in instances {
        let text = std::fs::read_to_string(&path).expect("instance");
        let instance = Instance::from_json(&text).expect("valid instance");
        let good = plan::to_json(&instance, &run(&instance, 200, 7));
        let greedy = plan::to_json(
            &instance,
            &reliefhub_planner::greedy::greedy_plan(&instance),
        );
        let mut plans = vec![good.clone(), greedy];
        plans.extend(broken_variants(&good));
        for plan_text in plans {
            k += 1;
            let ours = check_plan_json(&instance, &plan_text, None).expect("readable plan");
            let Some((theirs, objective)) = python_verdict(&path, &plan_text, &dir, k) else {
                continue;
            };
            assert_eq!(
                ours.is_feasible(),
                theirs,
                "{name}: verdicts differ on {plan_text:.300}: ours {:?}",
                ours.violations
            );
            assert!(
                (ours.objective - objective).abs() <= 1e-6 * (1.0 + objective.abs()),
                "{name}: objective {} vs {objective}",
                ours.objective
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn small_config() -> impl Strategy<Value = GenerateConfig> {
    (any::<u64>(), 5usize..60, 2usize..12, 3usize..30, 2usize..8).prop_map(
        |(seed, lots, departures, requests, destinations)| GenerateConfig {
            seed,
            lots,
            departures,
            requests,
            destinations,
            horizon_days: 15,
            name: "prop".to_string(),
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn plans_are_feasible_bounded_and_deterministic(config in small_config(), seed in 0u64..1000) {
        let instance = Instance::from_json(&generate_json(&config)).expect("generated instances are valid");
        let first = run(&instance, 60, seed);
        let report = check_plan_json(&instance, &plan::to_json(&instance, &first), None).expect("readable");
        prop_assert!(report.is_feasible(), "{:?}", report.violations);
        prop_assert!((report.objective - first.objective).abs() <= 1e-6 * (1.0 + first.objective.abs()));
        if let Some(bound) = first.upper_bound {
            prop_assert!(first.objective <= bound + 1e-6 * (1.0 + bound.abs()));
        }
        let greedy = reliefhub_planner::greedy::greedy_plan(&instance);
        let greedy_report = check_plan_json(&instance, &plan::to_json(&instance, &greedy), None).expect("readable");
        prop_assert!(greedy_report.is_feasible(), "{:?}", greedy_report.violations);
        if let Some(bound) = first.upper_bound {
            prop_assert!(greedy.objective <= bound + 1e-6 * (1.0 + bound.abs()));
        }
        let second = run(&instance, 60, seed);
        prop_assert_eq!(&first.allocations, &second.allocations);
        prop_assert_eq!(first.objective, second.objective);
    }
}

/// A generated M instance gives a feasible plan under its bound, the same
/// for the same seed. At this size one search runs, and it takes the
/// repacking and relot moves as well as the others.
#[test]
fn medium_instances_give_feasible_reproducible_plans() {
    let text = generate_json(&GenerateConfig::for_size(
        reliefhub_planner::generate::Size::M,
        2,
    ));
    let instance = Instance::from_json(&text).expect("generated M is valid");
    let first = run(&instance, 600, 5);
    let report =
        check_plan_json(&instance, &plan::to_json(&instance, &first), None).expect("readable");
    assert!(report.is_feasible(), "{:?}", report.violations);
    assert!(first.objective > 0.0);
    assert!(first.upper_bound.expect("a bound") >= first.objective);
    let again = run(&instance, 600, 5);
    assert_eq!(first.objective.to_bits(), again.objective.to_bits());
}

#[test]
fn generator_is_deterministic_and_valid() {
    let config = GenerateConfig::for_size(reliefhub_planner::generate::Size::S, 5);
    let a = generate_json(&config);
    assert_eq!(a, generate_json(&config));
    let instance = Instance::from_json(&a).expect("valid");
    assert_eq!(
        (
            instance.lots.len(),
            instance.departures.len(),
            instance.requests.len()
        ),
        (300, 30, 150)
    );
}

/// Every family of shapes gives valid instances of the size asked, the base
/// family exactly the instances of `generate_json`, and each family turns
/// the knob its name promises, measured against the base instance of the
/// same seed.
#[test]
fn generator_families_turn_what_they_promise() {
    use reliefhub_planner::generate::{generate_family_json, Family, Size};
    let measure = |text: &str| -> Value { serde_json::from_str(text).expect("JSON") };
    let total = |doc: &Value, list: &str, field: &str| -> f64 {
        doc[list]
            .as_array()
            .expect("list")
            .iter()
            .map(|x| x[field].as_f64().unwrap_or(0.0))
            .sum()
    };
    let share = |doc: &Value, list: &str, test: &dyn Fn(&Value) -> bool| -> f64 {
        let all = doc[list].as_array().expect("list");
        all.iter().filter(|x| test(x)).count() as f64 / all.len() as f64
    };
    let items_with = |doc: &Value, flag: &str| -> Vec<String> {
        doc["items"]
            .as_array()
            .expect("items")
            .iter()
            .filter(|i| i[flag].as_bool() == Some(true))
            .map(|i| i["id"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let charter_cost = |doc: &Value| -> f64 {
        doc["departures"]
            .as_array()
            .expect("departures")
            .iter()
            .filter(|d| d["mode"] == "air")
            .map(|d| d["fixed_cost"].as_f64().unwrap_or(0.0))
            .sum()
    };
    let mean_slack_days = |doc: &Value| -> f64 {
        let requests = doc["requests"].as_array().expect("requests");
        requests
            .iter()
            .map(|r| {
                let day =
                    reliefhub_planner::instance::parse_day(r["needed_by"].as_str().unwrap_or(""))
                        .unwrap_or(0);
                (day + r["grace_days"].as_i64().unwrap_or(0) as i32) as f64
            })
            .sum::<f64>()
            / requests.len() as f64
    };
    for seed in [1u64, 2] {
        let config = GenerateConfig::for_size(Size::S, seed);
        let base_text = generate_json(&config);
        assert_eq!(base_text, generate_family_json(&config, Family::Base));
        let base = measure(&base_text);
        for family in Family::ALL {
            assert_eq!(Family::parse(family.name()), Some(family));
            let text = generate_family_json(&config, family);
            assert_eq!(text, generate_family_json(&config, family), "{family:?}");
            let instance = Instance::from_json(&text)
                .unwrap_or_else(|e| panic!("{family:?} seed {seed}: {e}"));
            assert_eq!(
                (
                    instance.lots.len(),
                    instance.departures.len(),
                    instance.requests.len()
                ),
                (300, 30, 150),
                "{family:?}"
            );
            let doc = measure(&text);
            let case = format!("{family:?} seed {seed}");
            let dangerous = items_with(&doc, "dangerous_goods");
            let cold = items_with(&doc, "cold_chain");
            let of_items = |list: &[String]| {
                let list = list.to_vec();
                move |x: &Value| list.iter().any(|i| x["item"] == i.as_str())
            };
            match family {
                Family::Base => {}
                Family::TightCapacity => assert!(
                    total(&doc, "departures", "payload_kg")
                        < 0.6 * total(&base, "departures", "payload_kg"),
                    "{case}"
                ),
                Family::LooseCapacity => assert!(
                    total(&doc, "departures", "payload_kg")
                        > 1.8 * total(&base, "departures", "payload_kg"),
                    "{case}"
                ),
                Family::ThirdNode => {
                    assert_eq!(doc["nodes"].as_array().map(Vec::len), Some(3), "{case}");
                    assert!(
                        share(&doc, "lots", &|l| l["node"] == "LATAKIA-PORT") > 0.1,
                        "{case}"
                    );
                }
                Family::EarmarkedCold => {
                    let earmarked = |l: &Value| !l["earmark"].as_array().is_some_and(Vec::is_empty);
                    assert!(
                        share(&doc, "lots", &earmarked) > share(&base, "lots", &earmarked) + 0.2,
                        "{case}"
                    );
                    assert!(
                        share(&doc, "lots", &of_items(&cold))
                            > 2.0 * share(&base, "lots", &of_items(&cold)),
                        "{case}"
                    );
                }
                Family::Dangerous => {
                    assert!(
                        share(&doc, "requests", &of_items(&dangerous))
                            > 2.0 * share(&base, "requests", &of_items(&dangerous)),
                        "{case}"
                    );
                }
                Family::DearCharters => {
                    assert!(charter_cost(&doc) > 1.8 * charter_cost(&base), "{case}")
                }
                Family::CheapCharters => {
                    assert!(charter_cost(&doc) < 0.5 * charter_cost(&base), "{case}")
                }
                Family::Sailings => assert!(
                    share(&doc, "departures", &|d| d["mode"] == "sea")
                        > 2.0 * share(&base, "departures", &|d| d["mode"] == "sea"),
                    "{case}"
                ),
                Family::Flights => {
                    assert_eq!(
                        share(&doc, "departures", &|d| d["mode"] == "sea"),
                        0.0,
                        "{case}"
                    );
                    let per_kg = |d: &Value| d["cost_per_kg"].as_f64().unwrap_or(0.0) > 1.0;
                    assert!(share(&doc, "departures", &per_kg) > 0.5, "{case}");
                }
                Family::TightDeadlines => assert!(
                    mean_slack_days(&doc) < mean_slack_days(&base) - 5.0,
                    "{case}"
                ),
                Family::LooseDeadlines => assert!(
                    mean_slack_days(&doc) > mean_slack_days(&base) + 5.0,
                    "{case}"
                ),
            }
        }
    }
}

/// On every family of shapes the planner's plan is feasible, its objective
/// is the checker's, and the bound is above both the plan and the greedy
/// baseline's (a plan known to exist).
#[test]
fn plans_on_every_family_are_feasible_and_bounded() {
    use reliefhub_planner::generate::{generate_family_json, Family, Size};
    for family in Family::ALL {
        let text = generate_family_json(&GenerateConfig::for_size(Size::S, 3), family);
        let instance = Instance::from_json(&text).expect("valid");
        let plan = run(&instance, 400, 1);
        let report =
            check_plan_json(&instance, &plan::to_json(&instance, &plan), None).expect("readable");
        assert!(report.is_feasible(), "{family:?}: {:?}", report.violations);
        assert!(
            (report.objective - plan.objective).abs() <= 1e-6 * (1.0 + plan.objective.abs()),
            "{family:?}"
        );
        let greedy = reliefhub_planner::greedy::greedy_plan(&instance);
        let bound = plan.upper_bound.expect("a bound");
        assert!(bound >= plan.objective, "{family:?}");
        assert!(
            bound >= greedy.objective - 1e-6 * (1.0 + greedy.objective.abs()),
            "{family:?}: bound {bound} below the greedy's {}",
            greedy.objective
        );
    }
}

/// A generated S instance, its plan without overrides, and overrides that
/// this plan breaks: the plan's first used charter forbidden, an unused
/// charter to the same destination forced, a request the plan serves pinned
/// to another departure to its destination, and a lot the plan loads held
/// back whole. Returns the instance's JSON with the overrides added.
fn overridden_instance() -> (Value, Instance, Plan) {
    let text = generate_json(&GenerateConfig::for_size(
        reliefhub_planner::generate::Size::S,
        1,
    ));
    let instance = Instance::from_json(&text).expect("valid");
    let free = run(&instance, 400, 1);
    let used: std::collections::HashSet<usize> =
        free.allocations.iter().map(|a| a.departure).collect();
    let charter = |used_one: bool| {
        instance
            .departures
            .iter()
            .enumerate()
            .find(|(d, dep)| dep.fixed_cost > 0.0 && used.contains(d) == used_one)
            .map(|(d, _)| d)
            .expect("a charter")
    };
    let (forbidden, forced) = (charter(true), charter(false));
    let served = free
        .allocations
        .iter()
        .find(|a| {
            a.departure != forbidden
                && instance.departures.iter().enumerate().any(|(d, dep)| {
                    d != a.departure
                        && d != forbidden
                        && dep.destination == instance.requests[a.request].destination
                })
        })
        .expect("a request with another departure");
    let pinned_to = instance
        .departures
        .iter()
        .enumerate()
        .find(|(d, dep)| {
            *d != served.departure
                && *d != forbidden
                && dep.destination == instance.requests[served.request].destination
        })
        .map(|(d, _)| d)
        .expect("another departure");
    let held = free.allocations[0].lot;
    let mut doc: Value = serde_json::from_str(&text).expect("JSON");
    doc["overrides"] = json!({
        "pin": [{"request": instance.requests[served.request].id, "departure": instance.departures[pinned_to].id}],
        "forbid": [{"departure": instance.departures[forbidden].id}],
        "force": [{"departure": instance.departures[forced].id}],
        "hold": [{"lot": instance.lots[held].id, "quantity": instance.lots[held].quantity}],
    });
    let overridden = Instance::from_json(&doc.to_string()).expect("valid overrides");
    assert_eq!(overridden.overrides.pins, vec![(served.request, pinned_to)]);
    (doc, overridden, free)
}

/// The checker refuses a plan that breaks a manager's overrides, naming
/// each one; the planner's plan for the same instance honours them all.
#[test]
fn overrides_are_honoured_and_a_plan_breaking_them_is_refused() {
    let (_, instance, free) = overridden_instance();
    let report =
        check_plan_json(&instance, &plan::to_json(&instance, &free), None).expect("readable");
    assert!(!report.is_feasible());
    for rule in ["is pinned to", "is forbidden", "must fly", "held back"] {
        assert!(
            report.violations.iter().any(|v| v.contains(rule)),
            "no violation says {rule:?}: {:?}",
            report.violations
        );
    }
    let honoured = run(&instance, 400, 1);
    let report =
        check_plan_json(&instance, &plan::to_json(&instance, &honoured), None).expect("readable");
    assert!(report.is_feasible(), "{:?}", report.violations);
    assert!(
        (report.objective - honoured.objective).abs() <= 1e-6 * (1.0 + honoured.objective.abs())
    );
    assert!(honoured.upper_bound.expect("a bound") >= honoured.objective);
    assert!(honoured.objective > 0.0);
}

/// Bad overrides are refused with every fault named: unknown ids, a pin to
/// a departure to another destination, a departure both forbidden and
/// forced, a hold that is not whole packs, an unknown kind of override.
#[test]
fn bad_overrides_are_all_reported() {
    let text = generate_json(&GenerateConfig::for_size(
        reliefhub_planner::generate::Size::S,
        1,
    ));
    let instance = Instance::from_json(&text).expect("valid");
    let request = &instance.requests[0];
    let elsewhere = instance
        .departures
        .iter()
        .find(|d| d.destination != request.destination)
        .expect("a departure elsewhere");
    let lot = instance
        .lots
        .iter()
        .find(|l| l.pack_size > 1)
        .expect("a lot of packs");
    let mut doc: Value = serde_json::from_str(&text).expect("JSON");
    doc["overrides"] = json!({
        "pin": [{"request": "NO-SUCH-REQUEST", "departure": elsewhere.id},
                {"request": request.id, "departure": elsewhere.id}],
        "forbid": [{"departure": elsewhere.id}],
        "force": [{"departure": elsewhere.id}, {"departure": "NO-SUCH-DEPARTURE"}],
        "hold": [{"lot": lot.id, "quantity": lot.pack_size + 1}],
        "reserve": [],
    });
    let error = Instance::from_json(&doc.to_string()).expect_err("refused");
    let message = error.to_string();
    for expected in [
        "unknown request \"NO-SUCH-REQUEST\"",
        &format!("goes to {}", elsewhere.destination),
        "cannot be both",
        "unknown departure \"NO-SUCH-DEPARTURE\"",
        &format!("is not a multiple of lot \"{}\"'s pack size", lot.id),
        "is not an override",
    ] {
        assert!(
            message.contains(expected),
            "{expected:?} missing from: {message}"
        );
    }
}

/// When a charter is not worth its fixed cost for a request, the reason
/// gives the figures: what the charter could take of the request, its worth
/// and the fixed cost, which the worth does not reach.
#[test]
fn a_charter_not_worth_its_cost_is_explained_with_figures() {
    let instance = Instance::from_json(&example("tiny.json")).expect("tiny.json is valid");
    let plan = run(&instance, 2_000, 1);
    let reasons: Vec<&str> = plan
        .unmet
        .iter()
        .map(|u| u.reason.as_str())
        .filter(|reason| reason.contains("not worth its fixed cost"))
        .collect();
    assert!(!reasons.is_empty(), "{:?}", plan.unmet);
    for reason in reasons {
        let figure = |after: &str| -> f64 {
            let start = reason
                .find(after)
                .unwrap_or_else(|| panic!("{after:?} in {reason}"))
                + after.len();
            reason[start..]
                .split(|c: char| !(c.is_ascii_digit() || c == '.'))
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("a number after {after:?} in {reason}"))
        };
        let worth = figure("), worth ");
        let fixed = figure("against a fixed cost of ");
        let charter = instance
            .departures
            .iter()
            .find(|d| d.fixed_cost > 0.0 && reason.contains(&d.id))
            .expect("the charter named");
        assert_eq!(fixed, charter.fixed_cost.round(), "{reason}");
        assert!(worth < fixed, "{reason}");
        assert!(figure("would take ") > 0.0, "{reason}");
    }
}
