//! Work on several releases at once, a bounded number at a time.

use std::sync::{Mutex, PoisonError};

/// Calls `work` on every item, at most `jobs` at a time, and returns the results in item order.
pub fn each_mut<T: Send, R: Send>(
    items: &mut [T],
    jobs: usize,
    work: impl Fn(&mut T) -> R + Sync,
) -> Vec<R> {
    let count = items.len();
    let queue = Mutex::new(items.iter_mut().enumerate());
    let results = Mutex::new(Vec::with_capacity(count));
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, count.max(1)) {
            scope.spawn(|| {
                loop {
                    let next = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
                    let Some((index, item)) = next else {
                        break;
                    };
                    let result = work(item);
                    results
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push((index, result));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(PoisonError::into_inner);
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn results_keep_their_order_and_the_bound_holds() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let mut items = vec![3u64, 1, 2, 5, 4];
        let out = super::each_mut(&mut items, 2, |n| {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(*n * 10));
            running.fetch_sub(1, Ordering::SeqCst);
            *n *= 10;
            *n
        });
        assert_eq!(out, [30, 10, 20, 50, 40]);
        assert_eq!(items, [30, 10, 20, 50, 40]);
        assert!(most.load(Ordering::SeqCst) <= 2);
    }
}
